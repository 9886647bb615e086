"""An exponential moving average of a model's weights (Polyak averaging), the weights validation and best.pt use.

Built on ``torch.optim.swa_utils.AveragedModel``; only the update rule is ours, for its
warm-up: the decay of update n is min(decay, (1 + n) / (10 + n)), so the first steps'
random weights wash out of a short run instead of lingering for 1 / (1 - decay) steps.
Buffers (batch-norm statistics) are averaged with the weights.
"""

from __future__ import annotations

from typing import Any

import torch
from torch.optim.swa_utils import AveragedModel


def warmup_decay(decay: float, n_averaged: int) -> float:
    """The decay of the update after ``n_averaged`` earlier ones."""
    return min(decay, (1.0 + n_averaged) / (10.0 + n_averaged))


class WeightAverage:
    """The running average of ``model``'s weights and buffers, updated after each optimizer step."""

    def __init__(self, model: torch.nn.Module, decay: float):
        @torch.no_grad()
        def update(averaged: list[torch.Tensor], current: list[torch.Tensor], n_averaged: torch.Tensor) -> None:
            d = warmup_decay(decay, int(n_averaged))
            if averaged[0].is_floating_point():
                torch._foreach_lerp_(averaged, current, 1.0 - d)
            else:  # integer buffers (batch-norm's step count) follow the model
                for a, c in zip(averaged, current):
                    a.copy_(c)

        self.averaged = AveragedModel(model, multi_avg_fn=update, use_buffers=True)

    @property
    def module(self) -> torch.nn.Module:
        """The averaged copy of the model."""
        return self.averaged.module

    def update(self, model: torch.nn.Module) -> None:
        self.averaged.update_parameters(model)

    def state_dict(self) -> dict[str, Any]:
        """Plain tensors and ints, so a checkpoint holding it loads with weights_only=True."""
        return {"weights": {k: v.detach().cpu() for k, v in self.module.state_dict().items()},
                "count": int(self.averaged.n_averaged)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.module.load_state_dict(state["weights"])
        self.averaged.n_averaged.fill_(int(state["count"]))
