"""Every lesson runs in --quick mode and its claim holds; it leaves at least one figure, a real image."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from demos import LESSONS, run_lesson


@pytest.mark.parametrize("name", [lesson.name for lesson in LESSONS])
def test_lesson_claim_holds_in_quick_mode(name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ctx = run_lesson(name, out_dir=tmp_path, quick=True, seed=0)  # raises ClaimFailed if the claim fails
    report = capsys.readouterr().out
    assert len(report.splitlines()) >= 3, f"{name} printed no report"
    figures = [path for path in ctx.written if path.suffix == ".png"]
    assert figures, f"{name} saved no figure"
    for path in ctx.written:
        assert path.exists() and path.parent == tmp_path, path
        if path.suffix == ".png":
            with Image.open(path) as image:
                image.load()
                assert image.width >= 200 and image.height >= 150, (path, image.size)
                assert len(np.unique(np.asarray(image.convert("L")))) > 8, f"{path} is blank"
