"""Three PyTorch-style scripts that run unchanged on PyTorch and on dagrad: only their import block differs.

Each script here is plain PyTorch code, in the style of PyTorch's beginner examples. Its library imports sit in
one block between two marker comments, written for PyTorch:

    # --- import block (tests/pytorch_style swaps it for dagrad's) ---
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    import torch.optim as optim
    from torch import load, save
    from torch.utils.data import DataLoader, TensorDataset
    # --- end of import block ---

`load_script(name, "dagrad")` runs the same file with each of those lines replaced by dagrad's (`DAGRAD_LINES`):
the module `engine` is `torch`, `nn` is `torch.nn`, `nn.functional` is `torch.nn.functional`, `nn.optim` is
`torch.optim`, `nn.data` is `torch.utils.data`, and checkpoints go through `nn.save` / `nn.load` (safetensors
files) where PyTorch has `torch.save` / `torch.load` (pickle files): the one name the swap maps on purpose,
since dagrad never unpickles. Nothing else in a script is touched, and the replacement keeps every line where it
was, so a traceback from the dagrad run points at the script's own lines.

Run one by hand: `python -m tests.pytorch_style polynomial_nn dagrad` (or `torch`).
"""

from __future__ import annotations

import types
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = ("polynomial_tensor", "polynomial_autograd", "polynomial_nn")
LIBRARIES = ("torch", "dagrad")

BEGIN = "# --- import block (tests/pytorch_style swaps it for dagrad's) ---"
END = "# --- end of import block ---"

# Each PyTorch import line and the dagrad line that replaces it: the whole difference between the two runs.
DAGRAD_LINES = {
    "import torch": "import engine as torch",
    "import torch.nn as nn": "import nn",
    "import torch.nn.functional as F": "import nn.functional as F",
    "import torch.optim as optim": "import nn.optim as optim",
    "from torch import load, save": "from nn import load, save",  # safetensors files, not pickle
    "from torch.utils.data import DataLoader, TensorDataset": "from nn.data import DataLoader, TensorDataset",
}


def import_block(source: str, name: str = "script") -> tuple[int, int]:
    """The line numbers (0-based, end exclusive) of the lines between the two markers of `source`."""
    lines = source.splitlines()
    if lines.count(BEGIN) != 1 or lines.count(END) != 1:
        raise ValueError(f"{name}: expected one import block between {BEGIN!r} and {END!r}")
    start, stop = lines.index(BEGIN) + 1, lines.index(END)
    unknown = [line for line in lines[start:stop] if line and line not in DAGRAD_LINES]
    if unknown:
        raise ValueError(f"{name}: lines in the import block that have no dagrad counterpart: {unknown}")
    return start, stop


def swap_imports(source: str, library: str, name: str = "script") -> str:
    """`source` as it runs on `library`: unchanged for torch, the import block's lines replaced for dagrad."""
    if library not in LIBRARIES:
        raise ValueError(f"library must be one of {LIBRARIES}, got {library!r}")
    start, stop = import_block(source, name)
    if library == "torch":
        return source
    lines = source.splitlines(keepends=True)
    for i in range(start, stop):
        line = lines[i].rstrip("\n")
        lines[i] = DAGRAD_LINES[line] + "\n" if line else lines[i]
    return "".join(lines)


def load_script(name: str, library: str) -> types.ModuleType:
    """Run the script `name` on `library` ("torch" or "dagrad") as a fresh module and return it."""
    path = HERE / f"{name}.py"
    source = swap_imports(path.read_text(encoding="utf-8"), library, name)
    module = types.ModuleType(f"pytorch_style_{name}_{library}")
    module.__file__ = str(path)
    exec(compile(source, str(path), "exec"), module.__dict__)
    return module
