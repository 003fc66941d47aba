"""Minimal reproductions of the bugs this catalogue found; each docstring says what used to happen."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import engine
import nn
import nn.functional as F
from nn.checkpoint import load_checkpoint, save_checkpoint


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_gradient_with_probability_rows_that_do_not_sum_to_one(reduction: str) -> None:
    """The fused backward returned softmax - t, the gradient only when each target row sums to 1; torch
    accepts any non-negative rows (weighted soft labels), whose gradient is softmax · Σt - t."""
    logits = np.array([[1.0, -2.0, 0.5], [3.0, 0.0, -1.0]])
    target = np.array([[0.5, 0.25, 0.0], [1.0, 1.0, 0.5]])
    ours = engine.tensor(logits, requires_grad=True)
    F.cross_entropy(ours, target, reduction=reduction).sum().backward()
    theirs = torch.tensor(logits, requires_grad=True)
    TF.cross_entropy(theirs, torch.from_numpy(target), reduction=reduction).sum().backward()
    np.testing.assert_allclose(ours.grad.data, theirs.grad.numpy(), rtol=1e-12, atol=1e-14)

    def loss(x: engine.Tensor) -> engine.Tensor:
        return F.cross_entropy(x, target, reduction=reduction)

    assert engine.gradcheck(loss, [engine.tensor(logits, requires_grad=True)])
    assert engine.gradgradcheck(loss, [engine.tensor(logits, requires_grad=True)])


@pytest.mark.parametrize(
    "metadata", ['{"format_version": 1}', "[1, 2]", '{"format_version": 1, "optimizer": []}', "{not json"]
)
def test_load_checkpoint_with_malformed_metadata(tmp_path, metadata: str) -> None:
    """A safetensors file whose dagrad_checkpoint header was valid JSON of the wrong structure raised a bare
    KeyError('optimizer') (or AttributeError) instead of an error naming the file."""
    model = nn.Linear(2, 1)
    optimizer = nn.optim.SGD(model.parameters(), lr=0.1)
    path = tmp_path / "checkpoint.safetensors"
    save_checkpoint(path, model, optimizer, epoch=1)
    nn.save(nn.serialization.read(path)[0], path, metadata={"dagrad_checkpoint": metadata})
    with pytest.raises(ValueError, match=rf"load_checkpoint: {path}.*(malformed|format version)"):
        load_checkpoint(path, model, optimizer)


def test_load_checkpoint_with_a_bad_rng_state_changes_nothing(tmp_path) -> None:
    """Everything is checked before the model is restored: a bad RNG state used to surface only after the
    model and optimizer had already been overwritten."""
    model = nn.Linear(2, 1)
    optimizer = nn.optim.SGD(model.parameters(), lr=0.1)
    path = tmp_path / "checkpoint.safetensors"
    save_checkpoint(path, model, optimizer, epoch=1)
    arrays, metadata = nn.serialization.read(path)
    info = json.loads(metadata["dagrad_checkpoint"])
    info["rng"] = {"bit_generator": "Nonsense"}
    arrays["model.weight"] = arrays["model.weight"] + 1.0
    nn.save(arrays, path, metadata={"dagrad_checkpoint": json.dumps(info)})
    weights = model.weight.data.copy()
    with pytest.raises(ValueError, match="malformed"):
        load_checkpoint(path, model, optimizer)
    np.testing.assert_array_equal(model.weight.data, weights)


@pytest.mark.filterwarnings("ignore:.*degrees of freedom is <= 0:UserWarning")  # torch warns here
@pytest.mark.parametrize("correction", [3, 4, 5])
def test_var_and_std_with_correction_at_least_the_count(correction: int) -> None:
    """var divided by n - correction even when negative: var([1, 2, 4], correction=4) was -4.67 (a negative
    variance, silently); torch divides by max(0, n - correction), giving inf (or nan for 0 / 0)."""
    values = np.array([1.0, 2.0, 4.0])
    with np.errstate(divide="ignore", invalid="ignore"):
        ours = engine.tensor(values).var(correction=correction).item()
        constant = engine.ones(3, dtype="float64").std(correction=correction).item()
    np.testing.assert_array_equal(ours, torch.tensor(values).var(correction=correction).item())
    assert np.isnan(constant) and np.isnan(torch.ones(3, dtype=torch.float64).std(correction=correction).item())


def test_a_factory_with_a_float_size_names_itself() -> None:
    """engine.randn(2.5) raised Python's bare "'float' object is not iterable"."""
    with pytest.raises(TypeError, match=r"randn: a shape is made of ints, got 2\.5"):
        engine.randn(2.5)


def test_save_to_a_directory_path_says_so_and_writes_nothing(tmp_path) -> None:
    """nn.save(state, some_directory) made its temporary file in the directory's PARENT, then failed with
    "[Errno 21] Is a directory: '<parent>/.tmp...' -> '<dir>'"."""
    target = tmp_path / "checkpoints"
    target.mkdir()
    with pytest.raises(IsADirectoryError, match=rf"save: {target} is a directory.*model\.safetensors"):
        nn.save({"w": np.ones(2)}, target)
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoints"] and not any(target.iterdir())


def test_a_zero_slice_step_names_getitem_and_the_shape() -> None:
    """x[::0] raised NumPy's bare 'slice step cannot be zero'."""
    with pytest.raises(ValueError, match=r"getitem: slice step cannot be zero \(tensor shape \(2, 3\)"):
        engine.ones(2, 3)[::0]


def test_cli_out_of_memory_is_one_line(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    """dagrad graph --mlp 100000,100000 ended in a traceback (NumPy's MemoryError for a 37 GiB weight)."""
    from demos import cli

    def huge_mlp(*sizes: object) -> None:
        raise MemoryError("Unable to allocate 37.3 GiB for an array with shape (100000, 100000) and data type float32")

    monkeypatch.setattr(cli, "_mlp_class", lambda: huge_mlp)  # no real 37 GiB request: overcommit could grant it
    assert cli.main(["graph", "--mlp", "100000,100000"]) != 0
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err and "Unable to allocate 37.3 GiB" in err
