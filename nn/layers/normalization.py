"""Normalisation layers: `LayerNorm` (per sample) and `BatchNorm1d` (per feature, over the batch)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

import engine
from engine import Tensor
from nn import functional as F
from nn.module import Module
from nn.parameter import Parameter, factory_dtype


class LayerNorm(Module):
    """Normalise each sample over its last axes (biased variance), then scale and shift: torch.nn.LayerNorm."""

    def __init__(
        self,
        normalized_shape: int | Sequence[int],
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        dtype = factory_dtype("LayerNorm", device, dtype)
        shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        self.normalized_shape = tuple(int(s) for s in shape)
        self.eps = float(eps)
        self.elementwise_affine = elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(np.ones(self.normalized_shape, dtype=dtype))
            if bias:
                self.bias = Parameter(np.zeros(self.normalized_shape, dtype=dtype))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def forward(self, x: Tensor) -> Tensor:
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        bias = self.bias is not None or not self.elementwise_affine
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, bias={bias}"


class BatchNorm1d(Module):
    """Normalise each feature over the batch, for input (N, C) or (N, C, L): torch.nn.BatchNorm1d.

    Training: uses the batch mean and biased variance, and updates the running statistics
    running = (1 - momentum)·running + momentum·batch (with the unbiased variance, as PyTorch;
    momentum=None gives a cumulative average). Eval: uses the running statistics.
    """

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        device: Any = None,
        dtype: Any = None,
        *,
        bias: bool = True,
    ) -> None:
        super().__init__()
        dtype = factory_dtype("BatchNorm1d", device, dtype)
        self.num_features = int(num_features)
        self.use_bias = bias
        self.eps = float(eps)
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        if affine:
            self.weight = Parameter(np.ones(num_features, dtype=dtype))
            if bias:
                self.bias = Parameter(np.zeros(num_features, dtype=dtype))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", Tensor(np.zeros(num_features, dtype=dtype)))
            self.register_buffer("running_var", Tensor(np.ones(num_features, dtype=dtype)))
            self.register_buffer("num_batches_tracked", Tensor(np.array(0, dtype=np.int64)))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            self.running_mean.data[...] = 0
            self.running_var.data[...] = 1
            self.num_batches_tracked.data[...] = 0

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim not in (2, 3) or x.shape[1] != self.num_features:
            raise ValueError(
                f"BatchNorm1d: expected input of shape (N, {self.num_features}) or (N, {self.num_features}, L), "
                f"got {x.shape}"
            )
        axes = (0,) if x.ndim == 2 else (0, 2)
        param_shape = (1, self.num_features) if x.ndim == 2 else (1, self.num_features, 1)
        use_batch_stats = self.training or not self.track_running_stats
        if use_batch_stats:
            count = x.numel() // self.num_features
            if count <= 1 and self.training:
                raise ValueError(
                    f"BatchNorm1d: expected more than 1 value per feature when training, got input {x.shape}; "
                    "use a batch size > 1 (or drop_last=True in the DataLoader), or call model.eval()"
                )
            mean = x.mean(axis=axes, keepdims=True)
            centered = x - mean
            variance = (centered * centered).mean(axis=axes, keepdims=True)
            if self.training and self.track_running_stats:
                self._update_running_stats(mean.data.reshape(-1), variance.data.reshape(-1), count)
            out = centered / (variance + self.eps).sqrt()
        else:
            mean = self.running_mean.data.reshape(param_shape)
            std = np.sqrt(self.running_var.data.reshape(param_shape) + self.eps)
            out = (x - engine.from_numpy(mean)) / engine.from_numpy(std)
        if self.weight is not None:
            out = out * self.weight.reshape(param_shape)
        if self.bias is not None:
            out = out + self.bias.reshape(param_shape)
        return out

    def _update_running_stats(self, mean: np.ndarray, biased_var: np.ndarray, count: int) -> None:
        # Statistics are state, not part of the graph: update the buffers' arrays directly.
        self.num_batches_tracked.data += 1
        factor = 1.0 / int(self.num_batches_tracked.data) if self.momentum is None else float(self.momentum)
        unbiased = biased_var * (count / (count - 1))
        running_mean, running_var = self.running_mean.data, self.running_var.data
        running_mean[...] = (1.0 - factor) * running_mean + factor * mean
        running_var[...] = (1.0 - factor) * running_var + factor * unbiased
        engine.graph.increment_version(self.running_mean)
        engine.graph.increment_version(self.running_var)

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
            f"bias={self.use_bias}, track_running_stats={self.track_running_stats}"
        )
