"""The misuse catalogue of issue 7, in one place: every mistake a learner makes gets a clear error.

Each test checks the exception TYPE and that the message names the op/function and the offending
shapes, dtypes or values, so a reader can see at a glance what every misuse produces. Several items are
also covered in depth by tests/engine, tests/nn and tests/viz; here each one is short on purpose.
"""

from __future__ import annotations

import inspect
import json
import os
import pickle
import signal
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

import engine
import nn
import nn.functional as F
import viz
from engine.ops.elementwise import Mul
from nn.checkpoint import load_checkpoint, save_checkpoint
from viz.render import pipe

render_module = sys.modules["viz.render"]  # viz.render is also the name of the function viz exports

ROOT = Path(__file__).resolve().parents[2]
HERE = os.path.basename(__file__)


def matrix() -> engine.Tensor:
    return engine.ones(2, 3, requires_grad=True)


def check(call: Callable[[], object], kind: type[BaseException], *fragments: str) -> str:
    """Run `call`, require a `kind` exception (or a subclass) with every fragment in its message; return it."""
    with pytest.raises(kind) as error:
        call()
    message = str(error.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} missing from {type(error.value).__name__}: {message}"
    return message


# ----- shape mismatches -------------------------------------------------------------------------------
BINARY_OPS = {
    "add": lambda x, y: x + y,
    "sub": lambda x, y: x - y,
    "mul": lambda x, y: x * y,
    "div": lambda x, y: x / y,
    "pow": lambda x, y: x**y,
    "maximum": engine.maximum,
    "minimum": engine.minimum,
    "where": lambda x, y: engine.where(engine.ones(2, 3) > 0, x, y),
    "lt": lambda x, y: x < y,
    "le": lambda x, y: x <= y,
    "gt": lambda x, y: x > y,
    "ge": lambda x, y: x >= y,
    "eq": lambda x, y: x == y,
    "ne": lambda x, y: x != y,
}


@pytest.mark.parametrize("op", list(BINARY_OPS))
def test_binary_op_shape_mismatch_names_the_op_and_both_shapes(op: str) -> None:
    check(lambda: BINARY_OPS[op](matrix(), engine.ones(4)), ValueError, f"{op}:", "(2, 3)", "(4,)", "broadcast")


def test_where_condition_shape_mismatch() -> None:
    condition = engine.ones(4) > 0
    check(lambda: engine.where(condition, matrix(), 0.0), ValueError, "where", "condition (4,)", "x (2, 3)")


def test_matmul_inner_dimensions() -> None:
    check(lambda: matrix() @ engine.ones(4, 2), ValueError, "matmul", "(2, 3) @ (4, 2)", "3 and 4")


def test_cat_and_stack_shapes() -> None:
    check(lambda: engine.cat([matrix(), engine.ones(3, 4)]), ValueError, "cat", "(2, 3)", "(3, 4)", "dim 0")
    check(lambda: engine.stack([matrix(), engine.ones(4)]), ValueError, "stack", "(2, 3)", "(4,)")


@pytest.mark.parametrize("empty", ["list", "exhausted parameters()"])
def test_sum_of_squares_of_an_empty_sequence(empty: str) -> None:
    tensors = [] if empty == "list" else nn.Linear(3, 2).parameters()
    list(tensors)  # a parameters() generator already iterated once yields nothing the second time
    check(
        lambda: engine.sum_of_squares(tensors),
        ValueError,
        "sum_of_squares",
        "non-empty sequence of tensors",
        "model.parameters() or [w, b]",
        "got an empty one",
    )


def test_reshape_with_the_wrong_size() -> None:
    check(lambda: matrix().reshape(7), ValueError, "reshape", "(2, 3)", "6 elements", "(7,)", "7 elements")


@pytest.mark.parametrize(
    "index, fragments",
    [(7, ["index 7", "axis 0", "size 2"]), ((0, -4), ["index -4", "axis 1", "size 3"]), ([0, 2], ["index 2"])],
    ids=["int", "negative", "list"],
)
def test_indexing_out_of_range(index: object, fragments: list[str]) -> None:
    check(lambda: matrix()[index], IndexError, "getitem", "(2, 3)", *fragments)


# ----- cross_entropy ----------------------------------------------------------------------------------
def test_cross_entropy_float_targets_where_class_indices_are_expected() -> None:
    check(
        lambda: F.cross_entropy(matrix(), np.array([0.0, 1.0])),
        TypeError,
        "cross_entropy",
        "integer",
        "float64",
        "(2,)",
        "astype('int64')",
    )


@pytest.mark.parametrize("bad", [3, -1])
def test_cross_entropy_class_index_out_of_range(bad: int) -> None:
    check(
        lambda: F.cross_entropy(matrix(), np.array([0, bad])),
        IndexError,
        "cross_entropy",
        f"class index {bad}",
        "3 classes",
        "0 to 2",
    )


def test_cross_entropy_batch_sizes_differ() -> None:
    check(lambda: F.cross_entropy(matrix(), np.array([0, 1, 2])), ValueError, "cross_entropy", "(2,)", "(3,)")


def test_cross_entropy_empty_batch() -> None:
    logits = engine.zeros(0, 3, requires_grad=True)
    check(lambda: F.cross_entropy(logits, np.zeros(0, dtype=np.int64)), ValueError, "cross_entropy", "empty", "(0, 3)")


# ----- backward ---------------------------------------------------------------------------------------
def test_backward_on_a_non_scalar_without_gradient() -> None:
    check(lambda: (matrix() * 2).backward(), RuntimeError, "backward", "scalar", "(2, 3)", "gradient=")


def test_backward_twice_without_retain_graph() -> None:
    x = matrix()
    loss = (x * x).sum()  # Sum saved nothing and runs again (as in PyTorch); Mul saved x, which is freed
    loss.backward()
    check(loss.backward, RuntimeError, "Mul", "second time", "retain_graph=True")


def test_backward_on_a_tensor_that_does_not_require_grad() -> None:
    check(lambda: engine.ones(2, 3).sum().backward(), RuntimeError, "backward", "does not require grad")


@pytest.mark.parametrize("make", ["constructor", "requires_grad_"])
def test_requires_grad_on_an_integer_tensor(make: str) -> None:
    def call() -> None:
        if make == "constructor":
            engine.tensor([1, 2], requires_grad=True)
        else:
            engine.tensor([1, 2]).requires_grad_()

    check(call, TypeError, "requires_grad", "floating-point", "int64", "(2,)")


@pytest.mark.parametrize("saved", ["input", "output"])
def test_modifying_a_tensor_saved_for_backward(saved: str) -> None:
    x = matrix()
    y = x.exp()  # Exp saves its output; Mul below saves the weight (only y needs a gradient)
    weight = engine.full((2, 3), 3.0)
    loss = (y * weight).sum()
    with engine.no_grad():
        (weight if saved == "input" else y).mul_(2.0)
    # Mul saved the constant weight (y's gradient reads it); Exp saved its output y
    check(loss.backward, RuntimeError, "Mul" if saved == "input" else "Exp", "modified in place", "(2, 3)", "float32",
          "version 0 -> 1")  # fmt: skip


def test_nan_in_forward_under_detect_anomaly_names_the_op_and_line() -> None:
    x = engine.tensor([-1.0, 1.0], requires_grad=True)
    with engine.detect_anomaly(), np.errstate(invalid="ignore"), pytest.raises(FloatingPointError) as error:
        line = inspect.currentframe().f_lineno + 1
        x.log()  # log(-1) = NaN
    message = str(error.value)
    assert "Log produced NaN in its forward" in message and f"{HERE}:{line}" in message and "x.log()" in message


def test_inf_and_nan_in_backward_under_detect_anomaly_name_the_op_and_line() -> None:
    x = engine.tensor([0.0, 4.0], requires_grad=True)
    with engine.detect_anomaly(), np.errstate(divide="ignore", invalid="ignore"):
        line = inspect.currentframe().f_lineno + 1
        root = x.sqrt()  # d sqrt(x)/dx = inf at 0
        message = check(root.sum().backward, FloatingPointError, "Sqrt", "Inf", "backward", f"{HERE}:{line}")
        assert "root = x.sqrt()" in message
        # 0 * inf = NaN: the upstream gradient is 0 where sqrt's derivative is infinite
        x = engine.tensor([0.0, 4.0], requires_grad=True)
        line = inspect.currentframe().f_lineno + 1
        zeroed = x.sqrt() * engine.tensor([0.0, 1.0])
        check(zeroed.sum().backward, FloatingPointError, "Sqrt", "NaN", "backward", f"{HERE}:{line}")


# ----- state dicts ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "change, fragments",
    [
        ("missing", ["missing key(s): 'bias'", "strict=False"]),
        ("unexpected", ["unexpected key(s): 'extra'"]),
        ("shape", ["size mismatch for 'weight'", "(3, 3) in the state dict", "(2, 3) in the model"]),
    ],
)
def test_module_load_state_dict_problems_change_nothing(change: str, fragments: list[str]) -> None:
    model = nn.Linear(3, 2)
    before = {k: v.data.copy() for k, v in model.state_dict().items()}
    state = {"weight": np.zeros((2, 3)), "bias": np.zeros(2)}
    if change == "missing":
        del state["bias"]
    elif change == "unexpected":
        state["extra"] = np.ones(1)
    else:
        state["weight"] = np.zeros((3, 3))
    check(lambda: model.load_state_dict(state), ValueError, "loading state_dict for Linear", *fragments)
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value.data, before[key])  # nothing copied


def test_optimizer_state_for_other_parameters() -> None:
    source = nn.Linear(3, 2)
    optimizer = nn.optim.Adam(source.parameters(), lr=0.1)
    source(engine.ones(4, 3)).sum().backward()
    optimizer.step()
    other = nn.optim.Adam(nn.Linear(5, 2).parameters(), lr=0.1)
    check(
        lambda: other.load_state_dict(optimizer.state_dict()),
        ValueError,
        "Adam.load_state_dict",
        "other parameters",
        "'exp_avg' of parameter 0 has shape (2, 3)",
        "(2, 5)",
    )
    assert other.state_dict()["state"] == {}  # unchanged
    fewer = nn.optim.Adam([nn.Linear(3, 2).weight], lr=0.1)
    check(lambda: fewer.load_state_dict(optimizer.state_dict()), ValueError, "Adam.load_state_dict", "[2]", "[1]")
    # the same parameters, another optimizer type: SGD has no betas/eps (it would fail later, at step())
    sgd = nn.optim.SGD(source.parameters(), lr=0.1, momentum=0.9)
    check(lambda: sgd.load_state_dict(optimizer.state_dict()), ValueError, "SGD.load_state_dict", "another optimizer")
    check(lambda: optimizer.load_state_dict(sgd.state_dict()), ValueError, "['amsgrad', 'betas', 'eps']")


# ----- files ------------------------------------------------------------------------------------------
def listing(directory: Path) -> list[tuple[str, int, int]]:
    return sorted((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in directory.iterdir())


@pytest.fixture
def good_file(tmp_path: Path) -> bytes:
    nn.save(nn.Linear(3, 2).state_dict(), tmp_path / "good.safetensors")
    return (tmp_path / "good.safetensors").read_bytes()


def _corrupt_header(data: bytes) -> bytes:
    size = int.from_bytes(data[:8], "little")
    return data[:8] + data[8 : 8 + size].replace(b"F32", b"Q32") + data[8 + size :]


def _crafted(header: object, data: bytes = b"\0" * 8) -> bytes:
    """A file with a hand-written safetensors header (8-byte little-endian length, JSON, data)."""
    encoded = json.dumps(header).encode()
    return len(encoded).to_bytes(8, "little") + encoded + data


def _entry(dtype: str = "F32", shape: list[int] | None = None, offsets: list[int] | None = None) -> dict:
    return {"dtype": dtype, "shape": [2] if shape is None else shape, "data_offsets": offsets or [0, 8]}


BROKEN_FILES: dict[str, tuple[Callable[[bytes], bytes], str]] = {
    "truncated": (lambda good: good[: len(good) - 7], "truncated"),
    "truncated header": (lambda good: good[:20], "header"),
    "corrupted dtype": (_corrupt_header, "truncated or corrupted"),
    "corrupted json": (lambda good: good[:8] + b"\x00" * (len(good) - 8), "header is not valid JSON"),
    "empty": (lambda good: b"", "is empty (0 bytes)"),
    "text file": (lambda good: b"weights: [1, 2, 3]\n" * 4, "not a safetensors file"),
    "npy file": (lambda good: b"\x93NUMPY\x01\x00v\x00{'descr': '<f8'}" + b" " * 64, "not a safetensors file"),
    "png picture": (lambda good: b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "not a safetensors file"),
    "offsets past the end": (lambda good: _crafted({"w": _entry(offsets=[0, 4000])}), "offset"),
    "overlapping tensors": (lambda good: _crafted({"w": _entry(), "v": _entry()}), "offset"),
    "huge shape": (lambda good: _crafted({"w": _entry(shape=[10**12, 10**12])}), "overflow"),
    "negative shape": (lambda good: _crafted({"w": _entry(shape=[-2])}), "invalid"),
    "header not an object": (lambda good: _crafted([1, 2]), "not a JSON object"),
    "deeply nested header": (lambda good: (200_000).to_bytes(8, "little") + b"[" * 100_000 + b"]" * 100_000, "nests"),
    "bfloat16": (lambda good: _crafted({"w": _entry(dtype="BF16", offsets=[0, 4])}), "dtype BF16"),
}


@pytest.mark.parametrize("kind", list(BROKEN_FILES))
def test_loading_a_broken_file_is_a_clear_error_and_writes_nothing(tmp_path: Path, good_file: bytes, kind: str) -> None:
    make, fragment = BROKEN_FILES[kind]
    path = tmp_path / "model.safetensors"
    path.write_bytes(make(good_file))
    before = listing(tmp_path)
    model = nn.Linear(3, 2)
    weights = model.weight.data.copy()
    message = check(lambda: model.load_state_dict(nn.load(path)), ValueError, "load", str(path), fragment)
    assert "\n" not in message
    assert listing(tmp_path) == before
    np.testing.assert_array_equal(model.weight.data, weights)


class _CreatesMarker:
    """Unpickling this opens (creates) the marker file: proof that code ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (open, (str(self.marker), "w"))


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_a_crafted_pickle_is_never_unpickled(tmp_path: Path, protocol: int) -> None:
    marker = tmp_path / "marker"
    payload = pickle.dumps(_CreatesMarker(marker), protocol=protocol)
    path = tmp_path / "checkpoint-epoch0001.safetensors"
    path.write_bytes(payload)
    before = listing(tmp_path)
    check(lambda: nn.load(path), ValueError, "load", str(path))
    model, optimizer = nn.Linear(3, 2), nn.optim.SGD(nn.Linear(3, 2).parameters(), lr=0.1)
    check(lambda: load_checkpoint(path, model, optimizer), ValueError, str(path))
    assert not marker.exists()
    assert listing(tmp_path) == before


def test_a_torch_save_style_zip_with_a_payload_is_refused(tmp_path: Path) -> None:
    # torch.save writes a zip archive whose data.pkl is a pickle; build one without importing torch.
    marker = tmp_path / "marker"
    path = tmp_path / "model.pt"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("model/data.pkl", pickle.dumps({"payload": _CreatesMarker(marker)}, protocol=2))
        archive.writestr("model/version", "3\n")
    check(lambda: nn.load(path), ValueError, "load", str(path), "zip archive", "torch.save", "safetensors")
    assert not marker.exists()


def test_malformed_checkpoint_metadata_is_a_clear_error_and_changes_nothing(tmp_path: Path) -> None:
    model = nn.Linear(3, 2)
    optimizer = nn.optim.SGD(model.parameters(), lr=0.1)
    path = tmp_path / "checkpoint.safetensors"
    save_checkpoint(path, model, optimizer, epoch=1, history=nn.History())
    arrays = nn.serialization.read(path)[0]
    weights = model.weight.data.copy()
    for metadata in ('{"format_version": 1}', "[1, 2]", "not json"):
        nn.save(arrays, path, metadata={"dagrad_checkpoint": metadata})
        check(lambda: load_checkpoint(path, model, optimizer), ValueError, "load_checkpoint", str(path))
        np.testing.assert_array_equal(model.weight.data, weights)


@pytest.mark.parametrize(
    "failure", [OSError(28, "No space left on device (simulated)"), KeyboardInterrupt()], ids=["disk-full", "ctrl-c"]
)
def test_a_failure_in_the_middle_of_save_keeps_the_previous_checkpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failure: BaseException
) -> None:
    path = tmp_path / "model.safetensors"
    nn.save({"w": np.arange(3.0)}, path)
    before = path.read_bytes()

    def half_written(fd: int, payload: bytes) -> None:
        """Half the bytes reach the disk, then it fails."""
        os.write(fd, payload[: len(payload) // 2])
        raise failure

    monkeypatch.setattr(nn.serialization, "_write_all", half_written)
    with pytest.raises(type(failure)):
        nn.save({"w": np.ones(1000)}, path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["model.safetensors"]  # no temporary file left behind
    np.testing.assert_array_equal(nn.load(path)["w"].data, np.arange(3.0))


def test_ctrl_c_while_fit_writes_a_checkpoint_keeps_the_earlier_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine.manual_seed(0)
    X, y = nn.datasets.spiral(48, classes=3, seed=0)
    loader = nn.data.DataLoader(nn.data.TensorDataset(X, y), batch_size=16, shuffle=True, seed=1)
    model = nn.MLP(2, [8], 3)
    optimizer = nn.optim.Adam(model.parameters(), lr=0.01)
    real_replace = os.replace

    def replace(source: str, target: object) -> None:
        if str(target).endswith("checkpoint-epoch0003.safetensors"):
            raise KeyboardInterrupt  # Ctrl-C after the bytes of epoch 3 were written, before the swap
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(KeyboardInterrupt):
        nn.fit(model, F.cross_entropy, optimizer, loader, 4, progress=False, checkpoint_dir=tmp_path)
    monkeypatch.undo()
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "checkpoint-epoch0001.safetensors",
        "checkpoint-epoch0002.safetensors",
    ]  # complete files only: no temporary, no half-written epoch 3
    history = nn.fit(model, F.cross_entropy, optimizer, loader, 4, progress=False, checkpoint_dir=tmp_path, resume=True)
    assert history.epochs == 4 and len(history.train["loss"]) == 4


# ----- rendering --------------------------------------------------------------------------------------
SVG = "{http://www.w3.org/2000/svg}"
HOSTILE_NAMES = {
    "quote injection": 'a"]; evil [label="x',
    "closing brace": "} digraph evil { x",
    "angle brackets": "<b>bold</b> <<table>>",
    "newline": "first line\nsecond -> line",
}


@pytest.mark.parametrize("kind", list(HOSTILE_NAMES))
def test_hostile_names_cannot_inject_dot(kind: str) -> None:
    name = HOSTILE_NAMES[kind]
    leaf = engine.tensor(2.0, requires_grad=True, name=name)
    svg = ET.fromstring(pipe(viz.draw_graph(leaf.exp()), "svg"))
    nodes = [g for g in svg.iter(f"{SVG}g") if g.get("class") == "node"]
    assert len(nodes) == 3  # the leaf, Exp and its output: nothing injected
    holders = [g for g in nodes if all(line in "\n".join(g.itertext()) for line in name.split("\n"))]
    assert len(holders) == 1  # exactly one node shows the literal name


@contextmanager
def hang_guard(seconds: int) -> Iterator[None]:
    """Fail instead of hanging (pytest-xdist runs tests in each worker's main thread, so SIGALRM works)."""

    def alarm(signum: int, frame: object) -> None:
        raise TimeoutError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def test_a_huge_graph_is_refused_quickly() -> None:
    # 100,000 real Mul nodes, wired directly (running 100k forwards would cost seconds of the test budget).
    x = engine.tensor(0.5, requires_grad=True)
    y = x
    constant, value = engine.tensor(1.0), np.array(0.5)
    for _ in range(100_000):
        node = Mul.__new__(Mul)
        node.inputs, node._saved = (y, constant), ()
        y = engine.Tensor._wrap(value)
        y.requires_grad, y.grad_fn = True, node
    with hang_guard(60):
        check(lambda: viz.draw_graph(y), ValueError, "draw_graph", "max_nodes=2000", "collapse")


def test_a_missing_renderer_gives_an_install_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    graph = viz.draw_graph(matrix().sum())
    monkeypatch.setattr(render_module.shutil, "which", lambda name: None)  # no dot on PATH
    monkeypatch.setattr(render_module, "find_pure_binary", lambda: None)  # and no pip-installed graphviz-pure
    monkeypatch.delenv("DAGRAD_GRAPHVIZ_BACKEND", raising=False)
    check(lambda: pipe(graph, "svg"), RuntimeError, "render", "no Graphviz renderer", 'pip install "dagrad[viz]"')
    check(lambda: pipe(graph, "svg", backend="system"), RuntimeError, "render", "apt-get install graphviz")


# ----- command line -----------------------------------------------------------------------------------
CLI_ERRORS = {
    "malformed expression": (["graph", "--expr", "tanh(a *", "--set", "a=1"], "cannot parse"),
    "unknown variable": (["graph", "--expr", "a * q", "--set", "a=1"], "unknown variable 'q'"),
    "one variable, two values": (
        ["graph", "--expr", "a * b", "--set", "a=2", "b=1", "--set", "a=3"],
        "--set a is given twice with different values, 2 and 3",
    ),
    "bad flag": (["graph", "--expr", "a", "--set", "a=1", "--frobnicate"], "unrecognized arguments: --frobnicate"),
    "bad flag value": (["graph", "--expr", "a", "--set", "a=1", "--dpi", "high"], "invalid int value: 'high'"),
}


def test_cli_errors_are_one_line_without_a_traceback() -> None:
    # The real `python -m demos.cli`, one process per case, all started at once (each spends its time importing).
    running = {
        kind: subprocess.Popen(
            [sys.executable, "-m", "demos.cli", *argv],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        for kind, (argv, _) in CLI_ERRORS.items()
    }
    for kind, process in running.items():
        _, stderr = process.communicate(timeout=120)
        assert process.returncode != 0, kind
        assert "Traceback" not in stderr, (kind, stderr)
        assert len(stderr.strip().splitlines()) == 1, (kind, stderr)
        assert CLI_ERRORS[kind][1] in stderr and "error" in stderr, (kind, stderr)
