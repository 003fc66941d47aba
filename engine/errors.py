"""The engine's exception classes: each is the built-in a NumPy user catches *and* the one PyTorch raises.

PyTorch raises RuntimeError for shapes that do not fit and IndexError for a dimension out of range; code
written for NumPy catches ValueError for both. Deriving from both lets either kind of code catch them,
while the messages stay dagrad's (they name the op, the shapes and what to do).
"""

from __future__ import annotations


class ShapeError(ValueError, RuntimeError):
    """Shapes that do not fit: broadcasting, matmul, reshape, view, cat... (PyTorch: RuntimeError)."""


class DimError(IndexError, ValueError):
    """A dimension out of range for a tensor's number of dimensions (PyTorch: IndexError)."""


class DtypeError(TypeError, RuntimeError):
    """A dtype an op cannot take or produce here, e.g. float32 @ float64 (PyTorch: RuntimeError)."""
