"""Run an uploaded agent on a tiny CartPole-like environment (executed in a subprocess).

Usage: ``python -I _runner.py <episodes> <max_steps> <seed>`` with the agent folder as cwd.
Self-contained on purpose (``-I`` keeps the package off ``sys.path``). Protocol lines on
stdout start with ``@@mlarena@@ `` and carry JSON; everything else is the agent's own output.
"""

from __future__ import annotations

import importlib
import io
import json
import math
import os
import random
import sys
import traceback
from typing import Any, TextIO

MARK = "@@mlarena@@ "


class CartPole:
    """The classic cart-pole dynamics (Barto, Sutton & Anderson), pure Python."""

    gravity = 9.8
    masscart = 1.0
    masspole = 0.1
    length = 0.5
    force_mag = 10.0
    tau = 0.02
    theta_limit = 12 * 2 * math.pi / 360
    x_limit = 2.4

    def __init__(self, seed: int, max_steps: int) -> None:
        self.rng = random.Random(seed)
        self.max_steps = max_steps
        self.state = [0.0, 0.0, 0.0, 0.0]
        self.steps = 0

    def reset(self) -> list[float]:
        self.state = [self.rng.uniform(-0.05, 0.05) for _ in range(4)]
        self.steps = 0
        return list(self.state)

    def step(self, action: int) -> tuple[list[float], float, bool, bool]:
        x, x_dot, theta, theta_dot = self.state
        force = self.force_mag if action == 1 else -self.force_mag
        total_mass = self.masspole + self.masscart
        polemass_length = self.masspole * self.length
        cos, sin = math.cos(theta), math.sin(theta)
        temp = (force + polemass_length * theta_dot**2 * sin) / total_mass
        theta_acc = (self.gravity * sin - cos * temp) / (
            self.length * (4.0 / 3.0 - self.masspole * cos**2 / total_mass)
        )
        x_acc = temp - polemass_length * theta_acc * cos / total_mass
        x += self.tau * x_dot
        x_dot += self.tau * x_acc
        theta += self.tau * theta_dot
        theta_dot += self.tau * theta_acc
        self.state = [x, x_dot, theta, theta_dot]
        self.steps += 1
        terminated = abs(x) > self.x_limit or abs(theta) > self.theta_limit
        truncated = self.steps >= self.max_steps
        return list(self.state), 1.0, terminated, truncated


def emit(out: TextIO, **payload: Any) -> None:
    out.write(MARK + json.dumps(payload) + "\n")
    out.flush()


def load_agent() -> Any:
    sys.path.insert(0, os.getcwd())
    module = importlib.import_module("agent")  # the uploaded agent.py

    cls = getattr(module, "Agent", None)
    if not isinstance(cls, type):
        cls = next(
            (
                obj
                for obj in vars(module).values()
                if isinstance(obj, type)
                and obj.__module__ == module.__name__
                and callable(getattr(obj, "predict", None))
            ),
            None,
        )
    if cls is None:
        raise RuntimeError("agent.py defines no class with a predict(observation) method")
    return cls()


def to_action(value: Any) -> int:
    action = int(value)
    if action not in (0, 1):
        raise ValueError(f"predict() returned {value!r}: the action must be 0 or 1")
    return action


def main(argv: list[str]) -> int:
    episodes, max_steps, seed = int(argv[0]), int(argv[1]), int(argv[2])
    proto, err = sys.stdout, sys.stderr
    captured = io.StringIO()
    sys.stdout = sys.stderr = captured
    try:
        agent = load_agent()
        env = CartPole(seed, max_steps)
        for episode in range(1, episodes + 1):
            obs = env.reset()
            total = 0.0
            outcome = "truncated"
            while True:
                obs, reward, terminated, truncated = env.step(to_action(agent.predict(obs)))
                total += reward
                if terminated or truncated:
                    outcome = "terminated" if terminated else "truncated"
                    break
            emit(
                proto,
                type="episode",
                episode=episode,
                steps=env.steps,
                reward=total,
                outcome=outcome,
                log=captured.getvalue(),
            )
            captured.seek(0)
            captured.truncate()
    except BaseException as exc:  # the agent's failure, whatever it is, is the result
        emit(
            proto,
            type="error",
            error_type=type(exc).__name__,
            message=str(exc),
            traceback=traceback.format_exc(),
            log=captured.getvalue(),
        )
        return 1
    finally:
        sys.stdout, sys.stderr = proto, err
    emit(proto, type="done")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
