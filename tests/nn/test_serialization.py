"""nn.save / nn.load: safetensors round trips, torch interop both ways, atomic writes, bad files."""

from __future__ import annotations

import os
import pickle
import struct
from pathlib import Path

import numpy as np
import pytest
import safetensors.numpy
import safetensors.torch
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import engine
import nn
from tests.nn.helpers import torch_sequential_like


def _model(seed: int = 0) -> nn.MLP:
    engine.manual_seed(seed)
    return nn.MLP(4, [8, 8], 3, batch_norm=True)


def test_round_trip_keeps_values_dtypes_and_shapes(tmp_path: Path) -> None:
    model = _model()
    model(engine.randn(5, 4))  # move the BatchNorm running statistics away from their defaults
    path = tmp_path / "model.safetensors"
    nn.save(model.state_dict(), path)
    loaded = nn.load(path)
    assert list(loaded) == list(model.state_dict()) or set(loaded) == set(model.state_dict())
    for key, value in model.state_dict().items():
        assert loaded[key].dtype == value.dtype and loaded[key].shape == value.shape
        np.testing.assert_array_equal(loaded[key].data, value.data)
    other = _model(seed=1)
    other.load_state_dict(loaded)
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(other.state_dict()[key].data, value.data)


def test_file_written_by_dagrad_loads_into_torch_sequential(tmp_path: Path) -> None:
    model = _model().eval()
    path = tmp_path / "dagrad.safetensors"
    nn.save(model.state_dict(), path)
    torch_model = torch.nn.Sequential(
        torch.nn.Linear(4, 8),
        torch.nn.BatchNorm1d(8),
        torch.nn.ReLU(),
        torch.nn.Linear(8, 8),
        torch.nn.BatchNorm1d(8),
        torch.nn.ReLU(),
        torch.nn.Linear(8, 3),
    ).eval()
    torch_model.load_state_dict(safetensors.torch.load_file(str(path)))
    x = np.random.default_rng(0).normal(size=(6, 4)).astype(np.float32)
    with torch.no_grad():
        expected = torch_model(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(model(engine.tensor(x)).data, expected, rtol=1e-6, atol=1e-6)


def test_file_written_by_torch_loads_into_dagrad(tmp_path: Path) -> None:
    torch.manual_seed(0)
    torch_model = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.Tanh(), torch.nn.Linear(5, 2)).double()
    path = tmp_path / "torch.safetensors"
    safetensors.torch.save_file(torch_model.state_dict(), str(path))
    model = nn.MLP(3, [5], 2, activation="tanh").double()
    model.load_state_dict(nn.load(path))
    x = np.random.default_rng(1).normal(size=(4, 3))
    with torch.no_grad():
        expected = torch_model(torch.from_numpy(x)).numpy()
    for key, value in torch_model.state_dict().items():  # the weights arrive bit for bit
        np.testing.assert_array_equal(model.state_dict()[key].data, value.numpy())
    # outputs agree to rounding (different BLAS and tanh implementations can differ in the last bit)
    np.testing.assert_allclose(model(engine.tensor(x)).data, expected, rtol=1e-13, atol=1e-15)


def test_torch_sequential_helper_round_trip(tmp_path: Path) -> None:
    model = nn.MLP(2, [3], 1, activation="sigmoid").double()
    torch_model = torch_sequential_like(model)
    path = tmp_path / "t.safetensors"
    safetensors.torch.save_file(torch_model.state_dict(), str(path))
    for key, value in nn.load(path).items():
        np.testing.assert_array_equal(value.data, model.state_dict()[key].data)


def test_save_is_atomic_when_the_rename_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "model.safetensors"
    nn.save({"w": np.arange(3.0)}, path)
    before = path.read_bytes()

    def failing_replace(src, dst):
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="simulated"):
        nn.save({"w": np.zeros(1000)}, path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.safetensors"]  # no temp file left


def test_save_is_atomic_when_interrupted_mid_write(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "model.safetensors"
    nn.save({"w": np.arange(3.0)}, path)
    before = path.read_bytes()
    real_fsync = os.fsync

    def interrupted_fsync(fd):
        real_fsync(fd)
        raise KeyboardInterrupt  # Ctrl-C after the bytes were written, before the swap

    monkeypatch.setattr(os, "fsync", interrupted_fsync)
    with pytest.raises(KeyboardInterrupt):
        nn.save({"w": np.ones(10)}, path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["model.safetensors"]
    np.testing.assert_array_equal(nn.load(path)["w"].data, np.arange(3.0))


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", r"is empty \(0 bytes\)"),
        (b"\x10\x00\x00", r"only 3 bytes"),
        (b"\xff\xff\xff\xff\x00\x00\x00\x00{}", r"declares a \d+-byte header but the file has 10 bytes"),
        (b"\x05\x00\x00\x00\x00\x00\x00\x00nope!", r"header is not valid JSON"),
        (b"hello, this is a text file, not tensors at all", r"declares a .*-byte header"),
    ],
    ids=["empty", "tiny", "huge-header", "bad-json", "text"],
)
def test_broken_files_raise_a_clear_value_error(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.safetensors"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=message) as error:
        nn.load(path)
    assert str(path) in str(error.value)


def test_truncated_and_corrupted_files_raise_value_error(tmp_path: Path) -> None:
    good = tmp_path / "good.safetensors"
    nn.save({"a": np.arange(100.0), "b": np.ones((3, 3), dtype=np.float32)}, good)
    data = good.read_bytes()
    truncated = tmp_path / "truncated.safetensors"
    truncated.write_bytes(data[: len(data) - 50])
    with pytest.raises(ValueError, match=r"truncated\.safetensors"):
        nn.load(truncated)
    corrupted = tmp_path / "corrupted.safetensors"
    header_size = int.from_bytes(data[:8], "little")
    corrupted.write_bytes(data[:8] + data[8 : 8 + header_size].replace(b"F64", b"X99") + data[8 + header_size :])
    with pytest.raises(ValueError, match=r"corrupted\.safetensors"):
        nn.load(corrupted)
    with pytest.raises(FileNotFoundError, match=r"no such file"):
        nn.load(tmp_path / "missing.safetensors")
    with pytest.raises(IsADirectoryError, match=r"is a directory"):
        nn.load(tmp_path)


def test_a_state_dict_whose_header_starts_with_byte_0x80_loads(tmp_path: Path) -> None:
    """Regression: a header length of 128 mod 256 makes the file's first byte 0x80, the first byte of a
    pickle; load refused such files as pickles, so about one state_dict in 256 saved fine and never loaded."""
    engine.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 2))
    path = tmp_path / "model.safetensors"
    nn.save(model.state_dict(), path)
    assert path.read_bytes()[:1] == b"\x80"  # the case that used to be refused
    loaded = nn.load(path)
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(loaded[key].data, value.data)


_DTYPES = [np.float16, np.float32, np.float64, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint64, np.bool_]
_state_dicts = st.dictionaries(
    st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=12).filter(lambda k: k != "__metadata__"),
    st.sampled_from(_DTYPES).flatmap(
        lambda dtype: hnp.arrays(dtype, hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4))
    ),
    max_size=4,
)


def _header_length(payload: bytes) -> int:
    return struct.unpack("<Q", payload[:8])[0]


def _with_header_length(payload: bytes, length: int) -> bytes:
    """The same safetensors file with its JSON header padded by spaces to `length` bytes (the format allows any
    padding; safetensors itself pads to a multiple of 8, other writers need not)."""
    header = payload[8 : 8 + _header_length(payload)].rstrip(b" ")
    assert length >= len(header)
    return struct.pack("<Q", length) + header + b" " * (length - len(header)) + payload[8 + _header_length(payload) :]


def _assert_same(loaded: dict, arrays: dict) -> None:
    assert set(loaded) == set(arrays)
    for key, array in arrays.items():
        value = loaded[key].data
        assert value.dtype == array.dtype and value.shape == array.shape, key
        assert value.tobytes() == array.tobytes(), key  # bit for bit, NaNs included


@settings(max_examples=8)
@given(arrays=_state_dicts)
def test_every_header_length_mod_256_loads(tmp_path_factory: pytest.TempPathFactory, arrays: dict) -> None:
    """The first byte of a file is its header length mod 256: each of the 256 values must load. nn.save pads
    headers to a multiple of 8, so it writes 32 of them (each is saved here, its length steered through the
    metadata); the other 224 come from re-padding the same file, as another safetensors writer may."""
    folder = tmp_path_factory.mktemp("residues")
    bare = safetensors.numpy.save(arrays, metadata={"padding": ""})
    unpadded = len(bare[8 : 8 + _header_length(bare)].rstrip(b" "))
    saved_residues, loaded_residues = set(), set()
    for residue in range(256):
        length = unpadded + (residue - unpadded) % 256
        path = folder / f"{residue}.safetensors"
        if residue % 8 == 0:
            # each padding character lengthens the unpadded JSON by one byte
            nn.save(arrays, path, metadata={"padding": "x" * (length - unpadded)})
            saved_residues.add(_header_length(path.read_bytes()) % 256)
        else:
            path.write_bytes(_with_header_length(bare, length))
        assert _header_length(path.read_bytes()) % 256 == path.read_bytes()[0] == residue
        _assert_same(nn.load(path), arrays)
        loaded_residues.add(path.read_bytes()[0])
    assert saved_residues == set(range(0, 256, 8))
    assert loaded_residues == set(range(256))


class _Exploit:
    """Unpickling this would run code; dagrad must never unpickle."""

    def __reduce__(self):
        return (os.system, ("touch pwned",))


def test_pickle_and_torch_save_files_are_refused_without_running_code(tmp_path: Path) -> None:
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps(_Exploit()))
    with pytest.raises(ValueError, match=r"looks like a Python pickle, which dagrad never loads"):
        nn.load(path)
    torch_file = tmp_path / "model.pt"
    torch.save({"w": torch.zeros(2)}, torch_file)
    with pytest.raises(ValueError, match=r"zip archive, e.g. a torch.save\(\) checkpoint"):
        nn.load(torch_file)
    assert not (tmp_path / "pwned").exists() and not Path("pwned").exists()


def test_no_pickle_anywhere_in_nn() -> None:
    root = Path(nn.__file__).parent
    for source in root.rglob("*.py"):
        text = source.read_text()
        assert "import pickle" not in text and "np.load(" not in text, source


def test_save_validates_its_input(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match=r"save: expected a mapping"):
        nn.save([1, 2], tmp_path / "x.safetensors")
    with pytest.raises(FileNotFoundError, match=r"directory .* does not exist"):
        nn.save({"w": np.ones(1)}, tmp_path / "missing" / "x.safetensors")
    nn.save({"w": np.ones(1)}, tmp_path / "x.safetensors", metadata={"note": "hello"})
    from nn.serialization import read

    assert read(tmp_path / "x.safetensors")[1] == {"note": "hello"}
