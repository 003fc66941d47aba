"""PyTorch names that PyTorch code reaches for and dagrad answers differently, each saying what to use.

- `engine.save` / `engine.load`: checkpoints are safetensors files written by `nn.save` / `nn.load`
  (no pickle: loading a file never runs code), so these raise with the replacement.
- `engine.cuda`: dagrad computes with NumPy on the CPU. `engine.cuda.is_available()` is False and
  `device_count()` 0, so the common `device = "cuda" if torch.cuda.is_available() else "cpu"` picks the CPU;
  anything else under it raises.
"""

from __future__ import annotations

from typing import Any, NoReturn

from engine.registry import export


@export
def save(obj: Any, f: Any, *args: Any, **kwargs: Any) -> NoReturn:
    """Not here: use nn.save(model.state_dict(), path) (a safetensors file)."""
    raise RuntimeError(
        "engine.save: dagrad writes checkpoints with nn.save (safetensors, not pickle): "
        "nn.save(model.state_dict(), 'model.safetensors'), or nn.save_checkpoint(path, model, optimizer, "
        "epoch=...) for a training checkpoint"
    )


@export
def load(f: Any, *args: Any, **kwargs: Any) -> NoReturn:
    """Not here: use nn.load(path) (a safetensors file)."""
    raise RuntimeError(
        "engine.load: dagrad reads checkpoints with nn.load (safetensors, not pickle): "
        "model.load_state_dict(nn.load('model.safetensors')), or nn.load_checkpoint(path, model, optimizer)"
    )


class _Cuda:
    """engine.cuda: there is no GPU here (dagrad computes with NumPy on the CPU)."""

    @staticmethod
    def is_available() -> bool:
        return False

    @staticmethod
    def device_count() -> int:
        return 0

    def __getattr__(self, name: str) -> NoReturn:
        raise RuntimeError(
            f"engine.cuda.{name}: dagrad runs on the CPU only (NumPy); engine.cuda.is_available() is False. "
            "Leave tensors and models on the CPU (device='cpu', or no device at all)"
        )

    def __repr__(self) -> str:
        return "<engine.cuda: not available, dagrad runs on the CPU>"


cuda = export(_Cuda(), "cuda")
