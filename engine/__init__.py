"""dagrad's autodiff engine: `Tensor`, the ops, and reverse-mode backprop. Depends on NumPy only.

import engine
a = engine.tensor(2.0, requires_grad=True)
b = (a * a + a.exp()).tanh()
b.backward()
a.grad

Every op is declared once, in engine/ops, beside its backward rule; `engine.registry` makes it a name of this
package, a Tensor method and an operator. The core names below are registered here.
"""

from engine import autograd, creation, dtypes, grad_mode, graph, random, redirects  # noqa: F401 (they register names)
from engine.errors import DimError, DtypeError, ShapeError
from engine.function import Function
from engine.gradcheck import GradcheckError, gradcheck, gradgradcheck
from engine.ops import elementwise, indexing, linalg, reduce, shape  # noqa: F401 (importing them registers every op)
from engine.registry import EXPORTS, export
from engine.tensor import Size, Tensor, device, is_floating_point, is_tensor, numel

autograd.gradcheck, autograd.gradgradcheck = gradcheck, gradgradcheck  # where PyTorch code looks: torch.autograd.*
for _core in (
    Tensor, Size, device, is_tensor, Function, ShapeError, DimError, DtypeError, GradcheckError, gradcheck,
    gradgradcheck, autograd.backward, autograd.grad, graph.set_learning_size,
    grad_mode.no_grad, grad_mode.enable_grad, grad_mode.set_grad_enabled, grad_mode.inference_mode,
    grad_mode.is_grad_enabled, grad_mode.is_inference_mode_enabled, grad_mode.detect_anomaly,
    grad_mode.is_anomaly_enabled, random.manual_seed, random.get_rng_state, random.set_rng_state,
):  # fmt: skip
    export(_core)
for _name, _dtype in dtypes.NAMES.items():  # engine.float32, engine.long, engine.double...
    export(_dtype, _name)
export(numel)  # torch.numel(x), torch.is_floating_point(x)
export(is_floating_point)
export(dtypes.promote_types)
export(dtypes.result_type)

globals().update(EXPORTS)
__all__ = sorted(EXPORTS)
