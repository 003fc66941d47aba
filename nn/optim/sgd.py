"""`SGD`: stochastic gradient descent with momentum, dampening, Nesterov and weight decay (torch.optim.SGD)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from nn.optim.optimizer import Optimizer


class SGD(Optimizer):
    """d = g + weight_decay·p;  buf = momentum·buf + (1 - dampening)·d  (buf = d on the first step);
    d = d + momentum·buf (nesterov) or buf;  p -= lr·d."""

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "dampening": dampening,
            "weight_decay": weight_decay,
            "nesterov": nesterov,
        }
        super().__init__(params, defaults)

    def _validate(self, group: dict[str, Any]) -> None:
        super()._validate(group)
        if group["momentum"] < 0 or group["weight_decay"] < 0:
            raise ValueError(
                f"SGD: momentum and weight_decay must be >= 0, got {group['momentum']}, {group['weight_decay']}"
            )
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError("SGD: Nesterov momentum requires momentum > 0 and dampening = 0")

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]) -> None:
        lr, momentum, weight_decay = float(group["lr"]), float(group["momentum"]), float(group["weight_decay"])
        d = grad + weight_decay * param if weight_decay else grad
        if momentum:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = d.copy()
            else:
                buf = buf * momentum + (1.0 - float(group["dampening"])) * d
            state["momentum_buffer"] = buf
            d = d + momentum * buf if group["nesterov"] else buf
        param -= lr * d
