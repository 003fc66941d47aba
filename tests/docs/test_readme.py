"""README.md: the two commands come first, and every Python block runs and prints what its comments say."""

import contextlib
import io
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"
BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)


def python_blocks() -> list[str]:
    return BLOCK.findall(README.read_text(encoding="utf-8"))


def expected_prints(block: str) -> list[str]:
    """The `# ...` comment after each print(...) line: what that line must print."""
    return [
        line.rsplit("  # ", 1)[1].strip()
        for line in block.splitlines()
        if line.lstrip().startswith("print(") and "  # " in line
    ]


def test_the_two_commands_come_first() -> None:
    text = README.read_text(encoding="utf-8")
    first_block = text.split("```bash\n", 1)[1].split("```", 1)[0].splitlines()
    assert first_block[0].startswith("make demo") and first_block[1].startswith("make test")
    assert text.index("make demo") < text.index("```python")


def test_readme_has_examples_with_checked_output() -> None:
    blocks = python_blocks()
    assert len(blocks) >= 3
    assert all(expected_prints(block) for block in blocks)


@pytest.mark.parametrize("index", range(len(python_blocks())))
def test_readme_block_runs_and_prints_what_it_says(index: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    block = python_blocks()[index]
    monkeypatch.chdir(tmp_path)
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        exec(compile(block, f"README.md block {index}", "exec"), {"__name__": "__readme__"})
    assert stdout.getvalue().splitlines() == expected_prints(block)


def test_every_lesson_is_listed() -> None:
    from demos import LESSONS

    text = README.read_text(encoding="utf-8")
    for lesson in LESSONS:
        assert f"| `{lesson.name}` |" in text, lesson.name


def test_the_browser_tests_system_package_is_named() -> None:
    """make test skips the stepper's browser test without chromium; the README said nothing about it."""
    text = " ".join(README.read_text(encoding="utf-8").split())
    assert "Debian's `chromium` (`apt-get install chromium`)" in text and "`.ci/run` installs it" in text
    ci = (README.parent / ".ci" / "run").read_text(encoding="utf-8")
    assert "apt-get install" in ci and "chromium" in ci  # what the README promises
