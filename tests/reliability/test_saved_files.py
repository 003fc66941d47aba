"""Every writer of a user's file follows one rule for folders: a missing parent folder is created (a script
that trains for an hour must not lose its result because out/ did not exist), and a file standing where a
folder should be is a NotADirectoryError naming the operation, the user's path and the file in the way."""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

import engine
import nn
import viz


def _save(path: Path) -> None:
    nn.save({"w": np.arange(3.0)}, path)


def _save_checkpoint(path: Path) -> None:
    model = nn.Linear(2, 1)
    nn.save_checkpoint(path, model, nn.optim.SGD(model.parameters(), lr=0.1), epoch=1)


def _render(path: Path) -> None:
    x = engine.tensor(2.0, requires_grad=True)
    viz.render(viz.draw_graph((x * x).tanh()), path)  # DOT: no Graphviz binary needed


WRITERS: dict[str, tuple[Callable[[Path], None], str]] = {
    "save": (_save, "model.safetensors"),
    "save_checkpoint": (_save_checkpoint, "checkpoint.safetensors"),
    "render": (_render, "graph.dot"),
}


@pytest.mark.parametrize("op", list(WRITERS))
def test_a_missing_parent_folder_is_created(tmp_path: Path, op: str) -> None:
    write, name = WRITERS[op]
    path = tmp_path / "runs" / "today" / name
    write(path)
    assert path.is_file() and path.stat().st_size > 0


@pytest.mark.parametrize("op", list(WRITERS))
def test_a_file_in_the_way_of_the_folder_is_a_clear_error(tmp_path: Path, op: str) -> None:
    write, name = WRITERS[op]
    (tmp_path / "runs").write_text("a file, not a folder")
    path = tmp_path / "runs" / "today" / name
    with pytest.raises(NotADirectoryError) as error:
        write(path)
    assert str(error.value) == (
        f"{op}: cannot create the folder {path.parent} for {path}: {tmp_path / 'runs'} is a file, not a folder; "
        "choose another path"
    )
    assert error.value.errno == errno.ENOTDIR
    assert (tmp_path / "runs").read_text() == "a file, not a folder"


@pytest.mark.parametrize("op", list(WRITERS))
def test_a_folder_that_cannot_be_created_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, op: str
) -> None:
    """Simulated (the suite may run as root, who can create folders anywhere), as the kernel reports it: the
    OSError names the folder; ours also names the operation and the file the user asked for."""
    write, name = WRITERS[op]
    path = tmp_path / "runs" / name

    def refused(folder: Path, *args: object, **kwargs: object) -> None:
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(folder))

    monkeypatch.setattr(Path, "mkdir", refused)
    with pytest.raises(PermissionError) as error:
        write(path)
    monkeypatch.undo()
    expected = f"{op}: cannot create the folder {path.parent} for {path}: Permission denied; choose another path"
    assert str(error.value) == expected
    assert error.value.errno == errno.EACCES
    assert list(tmp_path.iterdir()) == []
