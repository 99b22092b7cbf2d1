"""CartPole agent for ML Arena: a linear policy whose weights live in ``weights.json``.

The arena imports this file, instantiates ``Agent`` and calls ``predict(observation)`` once per
step. ``observation`` holds 4 floats (cart position, cart velocity, pole angle, pole angular
velocity); the action is 0 (push left) or 1 (push right).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence

from policy import LinearPolicy  # a helper beside this file: remote storage is flat

HERE = os.path.dirname(os.path.abspath(__file__))
WEIGHTS = os.path.join(HERE, "weights.json")


class Agent:
    def __init__(self, *args: object, **kwargs: object) -> None:
        # The arena may pass environment details; this policy needs none of them.
        with open(WEIGHTS, encoding="utf-8") as fh:
            self.policy = LinearPolicy.from_dict(json.load(fh))

    def predict(self, observation: Sequence[float]) -> int:
        return self.policy.act(observation)
