"""A linear policy for CartPole: push right when ``weights · observation + bias > 0``.

Kept apart from ``agent.py`` to show a helper module: the arena stores an agent's files in one
flat folder on the agent's ``sys.path``, so ``agent.py`` imports this module by its name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence


class LinearPolicy:
    """``act(observation)`` → 1 (push right) or 0 (push left)."""

    def __init__(self, weights: Sequence[float], bias: float = 0.0) -> None:
        if len(weights) != 4:
            raise ValueError(f"CartPole observations have 4 values, got {len(weights)} weights")
        self.weights = [float(w) for w in weights]
        self.bias = float(bias)

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> LinearPolicy:
        weights = data["weights"]
        bias = data.get("bias", 0.0)
        if not isinstance(weights, list) or not isinstance(bias, (int, float)):
            raise ValueError("weights.json needs a list 'weights' and a number 'bias'")
        return cls(weights, bias)

    def act(self, observation: Sequence[float]) -> int:
        pairs = zip(self.weights, observation, strict=True)
        score = sum(w * float(x) for w, x in pairs) + self.bias
        return 1 if score > 0 else 0
