"""`save` / `load` in the safetensors format, with atomic writes. No pickle, ever.

A safetensors file is an 8-byte header length, a JSON header (dtype, shape, offsets of each tensor,
plus an optional string->string "__metadata__"), then raw little-endian bytes. Reading it parses JSON
and copies bytes, so a crafted file cannot run code (unlike torch.save/pickle files, which dagrad
refuses). Files written here load with `safetensors.torch.load_file` and vice versa.

Writes are atomic: the bytes go to a temporary file in the same directory, are fsync'ed, then
`os.replace` swaps it in, so an interrupted or failed save leaves the previous file intact. A missing
parent folder is created (as viz.render does), and the file gets the permissions an ordinary open()
would give it.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import secrets
import stat
import struct
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import safetensors.numpy
from safetensors import SafetensorError

import engine
from engine import Tensor

PathLike = str | os.PathLike

# The largest header we accept: safetensors itself caps it at 100 MB.
_MAX_HEADER_BYTES = 100_000_000
# Valid safetensors dtypes without a NumPy equivalent (an unknown dtype is reported as corruption instead).
_NON_NUMPY_DTYPES = ("BF16", "F8_E4M3", "F8_E5M2", "F8_E8M0", "F6_E2M3", "F6_E3M2", "F4")
_HINT = "; it may be truncated or corrupted, or not a safetensors file"


def _to_arrays(state_dict: Mapping[str, Any], op: str) -> dict[str, np.ndarray]:
    if not isinstance(state_dict, Mapping):
        raise TypeError(
            f"{op}: expected a mapping of names to Tensors/arrays (e.g. model.state_dict()), got "
            f"{type(state_dict).__name__}"
        )
    arrays = {}
    for key, value in state_dict.items():
        if not isinstance(key, str):
            raise TypeError(f"{op}: keys must be strings, got {key!r}")
        array = value.data if isinstance(value, Tensor) else np.asarray(value)
        if array.dtype.kind not in "biuf":
            raise TypeError(f"{op}: value for '{key}' must be numeric, got {array.dtype}")
        # safetensors stores raw C-ordered little-endian bytes (np.asarray keeps 0-d shapes, which
        # np.ascontiguousarray would turn into (1,)).
        arrays[key] = np.asarray(array, dtype=array.dtype.newbyteorder("<"), order="C")
    return arrays


def write_atomically(path: PathLike, payload: bytes, op: str = "save") -> None:
    """Write `payload` to `path` so that readers see either the old file or the complete new one.

    Missing parent folders are created, as viz.render does. The file gets the permissions an ordinary
    open() would give it: those of the file it replaces, else 0o666 less the umask. If the write fails
    (a full disk, an unwritable folder), the OSError names `path` and says whether the previous file is
    unchanged; no temporary file is left behind. `op` names the caller in error messages.
    """
    path = Path(path)
    if path.is_dir():  # checked first: the temporary file would otherwise land in the parent directory
        raise IsADirectoryError(f"{op}: {path} is a directory; pass a file path such as {path / 'model.safetensors'}")
    directory = path.parent
    _make_folder(directory, path, op)
    previous_mode = _permissions(path)
    try:
        handle, temporary = _create_temporary(directory, path.name)
    except OSError as error:
        raise _write_error(error, op, path, previous_mode is not None) from None
    try:
        try:
            if previous_mode is not None:
                # os.replace swaps in a new inode; keep the mode the user gave the old one. A filesystem
                # without Unix permissions (FAT, some network shares) refuses chmod, which is harmless there.
                with contextlib.suppress(OSError):
                    os.chmod(temporary, previous_mode)
            _write_all(handle, payload)
            os.fsync(handle)
        finally:
            os.close(handle)
        os.replace(temporary, path)
    except BaseException as error:
        # Any failure (including Ctrl-C) leaves the previous file and no temporary behind.
        if os.path.exists(temporary):
            os.unlink(temporary)
        if isinstance(error, OSError):
            raise _write_error(error, op, path, previous_mode is not None) from None
        raise
    _fsync_directory(directory)


def _make_folder(directory: Path, path: Path, op: str) -> None:
    """Create `directory` (and its parents) for `path`, or say clearly why it cannot be."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as error:  # a file where a folder should be, or a folder we may not create
        in_the_way = next((p for p in (directory, *directory.parents) if p.exists() and not p.is_dir()), None)
        reason = f"{in_the_way} is a file, not a folder" if in_the_way else error.strerror or str(error)
        message = f"{op}: cannot create the folder {directory} for {path}: {reason}; choose another path"
        trouble = NotADirectoryError(errno.ENOTDIR, "a file is in the way") if in_the_way else error
        raise _with_message(trouble, message) from None


def _permissions(path: Path) -> int | None:
    """The permission bits of the file at `path`, or None if there is none."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode) & 0o777
    except OSError:
        return None


def _create_temporary(directory: Path, name: str) -> tuple[int, str]:
    """A new, empty, hidden file next to `name` in `directory`: its descriptor and its path.

    Created with mode 0o666 so that the umask decides, as for an ordinary open() (tempfile.mkstemp would
    force 0o600, and a checkpoint shared with a teammate would be unreadable to them).
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    while True:
        temporary = str(directory / f".{name}.{secrets.token_hex(6)}.tmp")
        with contextlib.suppress(FileExistsError):  # a name already taken: draw another
            return os.open(temporary, flags, 0o666), temporary


def _write_error(error: OSError, op: str, path: Path, existed: bool) -> OSError:
    """`error` (of the same class and errno) reworded to name the user's path, not the temporary file."""
    if error.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        advice = "free some disk space or save somewhere else"
    elif error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        advice = f"you cannot create files in the folder {path.parent}; save somewhere else or change its permissions"
    else:
        advice = "save somewhere else"
    outcome = f"{path} is unchanged" if existed else "nothing was written"
    return _with_message(error, f"{op}: could not write {path}: {error.strerror or error}; {advice} ({outcome})")


def _with_message(error: OSError, message: str) -> OSError:
    # Same class and errno, so `except PermissionError` and `error.errno == errno.ENOSPC` still work; no
    # filename or strerror, whose str() would put the temporary file's name back into the message.
    reworded = type(error)(message)
    reworded.errno = error.errno
    return reworded


def _write_all(fd: int, payload: bytes) -> None:
    """Write every byte of `payload` to `fd` (os.write may write fewer bytes than asked)."""
    view = memoryview(payload)
    while view:
        view = view[os.write(fd, view) :]


def _fsync_directory(directory: Path) -> None:
    # Persist the rename itself; not every platform allows opening a directory, which is fine to skip.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)


def save(state_dict: Mapping[str, Any], path: PathLike, metadata: Mapping[str, str] | None = None) -> None:
    """Save named Tensors/arrays (e.g. `model.state_dict()`) to a safetensors file, atomically.

    `metadata` is an optional string->string mapping stored in the header. Missing parent folders are
    created; the file's permissions are those an ordinary open() gives (see write_atomically).
    """
    arrays = _to_arrays(state_dict, "save")
    if metadata is not None and not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
        raise TypeError("save: metadata must map strings to strings (use json.dumps for structured values)")
    payload = safetensors.numpy.save(arrays, metadata=dict(metadata) if metadata else None)
    write_atomically(path, payload)


def _refuse_pickle_or_zip(path: Path, raw: bytes) -> None:
    """Raise the clear "never unpickled" ValueError if a file that failed to parse is a pickle or a zip.

    Called only after parsing failed: a safetensors file starts with its header length, whose low byte
    can be anything, 0x80 (a pickle's first byte) included, for one header length in 256.
    """
    if raw[:1] == b"\x80":
        raise ValueError(
            f"load: {path} is not a safetensors file: it looks like a Python pickle, which dagrad never loads "
            "(unpickling can run arbitrary code)"
        )
    if raw[:2] == b"PK":
        raise ValueError(
            f"load: {path} is not a safetensors file: it looks like a zip archive, e.g. a torch.save() checkpoint "
            "(pickle inside), which dagrad never loads because unpickling can run arbitrary code; re-save it with "
            "safetensors.torch.save_file"
        )


def _parse_header(path: Path, raw: bytes) -> dict[str, Any]:
    """The JSON header of a safetensors file's bytes; ValueError naming the path if they are not one."""
    if len(raw) < 8:
        raise ValueError(f"load: {path} has only {len(raw)} bytes, fewer than a safetensors header{_HINT}")
    (header_size,) = struct.unpack("<Q", raw[:8])
    if header_size > min(_MAX_HEADER_BYTES, len(raw) - 8):
        raise ValueError(f"load: {path} declares a {header_size}-byte header but the file has {len(raw)} bytes{_HINT}")
    try:
        header = json.loads(raw[8 : 8 + header_size])
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"load: {path}: the header is not valid JSON ({error}){_HINT}") from None
    except RecursionError:  # a crafted header of deeply nested brackets
        raise ValueError(f"load: {path}: the header nests JSON too deeply{_HINT}") from None
    if not isinstance(header, dict):
        raise ValueError(f"load: {path}: the header is not a JSON object{_HINT}")
    return header


def read(path: PathLike) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """The arrays and the metadata of a safetensors file; ValueError naming the path if it is not one."""
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"load: {path} is a directory; pass the path of a .safetensors file")
    if not path.is_file():
        raise FileNotFoundError(f"load: no such file: {path}")
    raw = path.read_bytes()
    if not raw:
        raise ValueError(f"load: {path} is empty (0 bytes); not a safetensors file (an interrupted copy?)")
    try:
        header = _parse_header(path, raw)
    except ValueError:
        _refuse_pickle_or_zip(path, raw)
        raise
    # A parsed header is a safetensors file, so a dtype NumPy lacks is reported as such, whatever the first byte.
    for key, entry in header.items():
        dtype = entry.get("dtype") if isinstance(entry, dict) and key != "__metadata__" else None
        if dtype in _NON_NUMPY_DTYPES:
            raise ValueError(
                f"load: {path}: tensor '{key}' has dtype {dtype}, which NumPy (and so dagrad) cannot hold; convert "
                "the file to float32 first (e.g. safetensors.torch.load_file, .float(), save_file)"
            )
    try:
        arrays = safetensors.numpy.load(raw)
    except (SafetensorError, ValueError, TypeError, KeyError, OverflowError) as error:
        _refuse_pickle_or_zip(path, raw)
        raise ValueError(f"load: {path}: {error}{_HINT}") from None
    metadata = header.get("__metadata__") or {}
    return arrays, dict(metadata)


def load(path: PathLike, map_location: Any = None, *, weights_only: bool = True) -> dict[str, Tensor]:
    """Load a safetensors file as a dict of Tensors (feed it to `model.load_state_dict`).

    A missing file raises FileNotFoundError; an empty, truncated, corrupted, pickle or other
    non-safetensors file raises ValueError naming the path and the problem.

    `map_location` and `weights_only` are torch.load's, so `load(path, map_location="cpu", weights_only=True)`
    runs unchanged: the only location is the CPU (another one raises, as engine.device does), and a safetensors
    file holds tensors only, whichever weights_only says.
    """
    if map_location is not None and not callable(map_location) and not isinstance(map_location, dict):
        engine.device(map_location)  # "cpu", "cpu:0" or engine.device("cpu"); "cuda" says dagrad runs on the CPU
    arrays, _ = read(path)
    return {key: engine.from_numpy(np.array(array)) for key, array in arrays.items()}
