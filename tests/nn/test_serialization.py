"""nn.save / nn.load: safetensors round trips, torch interop both ways, atomic writes, bad files."""

from __future__ import annotations

import errno
import os
import pickle
import stat
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
    nn.save({"w": np.ones(1)}, tmp_path / "x.safetensors", metadata={"note": "hello"})
    from nn.serialization import read

    assert read(tmp_path / "x.safetensors")[1] == {"note": "hello"}


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("umask", [0o022, 0o027, 0o077])
def test_a_new_file_gets_the_permissions_an_ordinary_open_gives(tmp_path: Path, umask: int) -> None:
    """With the usual umask 022 a teammate on the same machine can read a saved checkpoint (mode 0644)."""
    model = nn.Linear(3, 2)
    previous = os.umask(umask)
    try:
        nn.save(model.state_dict(), tmp_path / "model.safetensors")
        nn.save_checkpoint(tmp_path / "checkpoint.safetensors", model, nn.optim.SGD(model.parameters()), epoch=1)
        with open(tmp_path / "ordinary.bin", "wb"):
            pass
    finally:
        os.umask(previous)
    assert _mode(tmp_path / "ordinary.bin") == 0o666 & ~umask
    assert _mode(tmp_path / "model.safetensors") == _mode(tmp_path / "checkpoint.safetensors") == 0o666 & ~umask


def test_overwriting_keeps_the_permissions_of_the_file_it_replaces(tmp_path: Path) -> None:
    """As with open(path, "wb") on an existing file: a mode the user chose survives the next save."""
    path = tmp_path / "model.safetensors"
    nn.save({"w": np.ones(2)}, path)
    for mode in (0o640, 0o600, 0o664):
        path.chmod(mode)
        nn.save({"w": np.zeros(2)}, path)
        assert _mode(path) == mode


def test_save_creates_missing_parent_folders(tmp_path: Path) -> None:
    """The same rule as viz.render: a script that trains for an hour must not lose its model at the end because
    runs/ did not exist yet."""
    path = tmp_path / "runs" / "today" / "model.safetensors"
    nn.save({"w": np.arange(3.0)}, path)
    np.testing.assert_array_equal(nn.load(path)["w"].data, np.arange(3.0))


@pytest.mark.parametrize("below", [(), ("sub",)], ids=["parent-is-a-file", "ancestor-is-a-file"])
def test_save_below_a_file_names_the_path_and_the_file_in_the_way(tmp_path: Path, below: tuple[str, ...]) -> None:
    (tmp_path / "notes.txt").write_text("not a folder")
    path = tmp_path.joinpath("notes.txt", *below, "model.safetensors")
    with pytest.raises(NotADirectoryError) as error:
        nn.save({"w": np.ones(1)}, path)
    message = str(error.value)
    assert message.startswith(f"save: cannot create the folder {path.parent} for {path}: ")
    assert f"{tmp_path / 'notes.txt'} is a file" in message
    assert (tmp_path / "notes.txt").read_text() == "not a folder"


def test_a_full_disk_mid_write_names_the_path_and_keeps_the_previous_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "model.safetensors"
    nn.save({"w": np.arange(3.0)}, path)
    before = path.read_bytes()

    def full_disk(fd: int, payload: bytes) -> None:
        os.write(fd, payload[: len(payload) // 2])  # half the bytes reach the disk, then it is full
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(nn.serialization, "_write_all", full_disk)
    with pytest.raises(OSError) as error:
        nn.save({"w": np.zeros(1000)}, path)
    message = str(error.value)
    assert error.value.errno == errno.ENOSPC
    assert message.startswith(f"save: could not write {path}: No space left on device")
    assert f"{path} is unchanged" in message and ".tmp" not in message
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["model.safetensors"]  # no temporary file left


def test_a_failed_first_save_says_nothing_was_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "model.safetensors"

    def full_disk(fd: int, payload: bytes) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(nn.serialization, "_write_all", full_disk)
    with pytest.raises(OSError, match=rf"^save: could not write {path}: No space left on device.*nothing was written"):
        nn.save({"w": np.zeros(10)}, path)
    assert list(tmp_path.iterdir()) == []


def _assert_unwritable_folder_error(error: OSError, path: Path) -> None:
    message = str(error)
    assert isinstance(error, PermissionError)
    assert message.startswith(f"save: could not write {path}: Permission denied")
    assert f"folder {path.parent}" in message and ".tmp" not in message


def test_an_unwritable_folder_names_the_path_not_the_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Simulated (the suite may run as root, who can write anywhere): creating the temporary file is refused
    the way the kernel refuses it, with the temporary file's name in the OSError."""
    path = tmp_path / "model.safetensors"
    nn.save({"w": np.arange(3.0)}, path)
    before = path.read_bytes()
    real_open = os.open

    def refusing_open(file, flags, *args, **kwargs):
        if flags & os.O_CREAT and Path(file).parent == tmp_path:
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(file))
        return real_open(file, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", refusing_open)
    with pytest.raises(PermissionError) as error:
        nn.save({"w": np.zeros(3)}, path)
    monkeypatch.undo()
    _assert_unwritable_folder_error(error.value, path)
    assert path.read_bytes() == before


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root can write into a read-only folder")
def test_a_read_only_folder_names_the_path_not_the_temporary_file(tmp_path: Path) -> None:
    folder = tmp_path / "shared"
    folder.mkdir()
    path = folder / "model.safetensors"
    nn.save({"w": np.arange(3.0)}, path)
    before = path.read_bytes()
    folder.chmod(0o555)
    try:
        with pytest.raises(PermissionError) as error:
            nn.save({"w": np.zeros(3)}, path)
    finally:
        folder.chmod(0o755)
    _assert_unwritable_folder_error(error.value, path)
    assert path.read_bytes() == before


def test_load_takes_torch_loads_map_location_and_weights_only(tmp_path: Path) -> None:
    """`torch.load(path, map_location="cpu", weights_only=True)` runs unchanged on nn.load (the swap in
    tests/pytorch_style maps torch.load to it); a GPU location says dagrad runs on the CPU."""
    path = tmp_path / "model.pt"
    nn.save({"w": engine.arange(3.0)}, path)
    for kwargs in ({}, {"weights_only": True}, {"weights_only": False}, {"map_location": "cpu"},
                   {"map_location": engine.device("cpu")}, {"map_location": {"cuda:0": "cpu"}},
                   {"map_location": lambda storage, location: storage}):  # fmt: skip
        np.testing.assert_array_equal(nn.load(path, **kwargs)["w"].data, np.arange(3.0, dtype=np.float32))
    np.testing.assert_array_equal(nn.load(path, "cpu")["w"].data, np.arange(3.0, dtype=np.float32))
    with pytest.raises(RuntimeError, match="CPU only"):
        nn.load(path, map_location="cuda")
