"""docs/errors.md never goes stale: every error quoted there is what the code raises today.

The doc pairs each ```python snippet with the ```text block right after it (the exception as Python
prints its last line: `Type: message`), and each ```console block holds `$ dagrad ...` and its stderr.
Snippets run in a fresh namespace (numpy as np, engine, nn, F, viz imported) in an empty temporary
directory, so file names in messages are the short ones the doc shows.

Regenerate the quoted errors after changing a message:  .venv/bin/python -m tests.reliability.test_errors_doc --write
"""

from __future__ import annotations

import linecache
import os
import re
import shlex
import subprocess
import sys
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "errors.md"
SNIPPET_FILE = "train.py"  # what a learner's script is called in the quoted messages (detect_anomaly names it)
PREAMBLE = "import numpy as np\nimport engine\nimport nn\nimport nn.functional as F\nimport viz\n"

_PYTHON = re.compile(r"```python\n(?P<code>.*?)```\n+```text\n(?P<expected>.*?)```", re.S)
_CONSOLE = re.compile(r"```console\n\$ (?P<command>[^\n]*)\n(?P<expected>.*?)```", re.S)
_HEADING = re.compile(r"^### (.+)$", re.M)


@dataclass(frozen=True)
class Example:
    title: str
    kind: str  # "python" or "console"
    source: str  # the snippet, or the command line after "$ "
    expected: str
    span: tuple[int, int]  # where `expected` sits in the doc


def examples(text: str) -> list[Example]:
    """Every quoted error in the doc, in order, each named after the ### heading above it."""
    found = []
    for kind, pattern, group in (("python", _PYTHON, "code"), ("console", _CONSOLE, "command")):
        for match in pattern.finditer(text):
            headings = _HEADING.findall(text[: match.start()])
            title = headings[-1] if headings else "(no heading)"
            found.append(Example(title, kind, match.group(group), match.group("expected"), match.span("expected")))
    return sorted(found, key=lambda e: e.span)


def run_python(code: str, directory: Path) -> str:
    """The `Type: message` line(s) of the exception the snippet raises."""
    namespace = {"__name__": "__snippet__"}
    exec(PREAMBLE, namespace)  # separately, so line numbers in messages are the snippet's own
    linecache.cache[SNIPPET_FILE] = (len(code), None, code.splitlines(keepends=True), SNIPPET_FILE)  # line text
    previous = os.getcwd()
    os.chdir(directory)
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            exec(compile(code, SNIPPET_FILE, "exec"), namespace)
    except Exception as error:  # the point of every snippet
        return f"{type(error).__name__}: {error}\n"
    finally:
        os.chdir(previous)
        linecache.cache.pop(SNIPPET_FILE, None)
    raise AssertionError(f"the snippet raised nothing:\n{code}")


def run_console(command: str, directory: Path) -> str:
    """stderr of `dagrad ...` (run as python -m demos.cli), with leading NAME=value words as its environment."""
    words = shlex.split(command)
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT)}
    while words and re.match(r"^[A-Z_]+=", words[0]):
        name, _, value = words.pop(0).partition("=")
        env[name] = value
    assert words[0] == "dagrad", f"console examples run the dagrad command, got {command!r}"
    done = subprocess.run(
        [sys.executable, "-m", "demos.cli", *words[1:]],
        capture_output=True,
        text=True,
        cwd=directory,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode != 0, f"{command!r} succeeded"
    return done.stderr


def actual(example: Example, directory: Path) -> str:
    run = run_python if example.kind == "python" else run_console
    return run(example.source, directory)


EXAMPLES = examples(DOC.read_text(encoding="utf-8"))


def test_the_doc_quotes_every_kind_of_misuse() -> None:
    assert len(EXAMPLES) >= 25
    assert {e.kind for e in EXAMPLES} == {"python", "console"}


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.title for e in EXAMPLES])
def test_quoted_error_is_what_the_code_raises(example: Example, tmp_path: Path) -> None:
    assert actual(example, tmp_path) == example.expected, (
        "docs/errors.md is stale; regenerate it with .venv/bin/python -m tests.reliability.test_errors_doc --write"
    )


def write() -> None:
    """Replace every quoted error in docs/errors.md with what the code raises now."""
    text = DOC.read_text(encoding="utf-8")
    for example in reversed(examples(text)):
        with tempfile.TemporaryDirectory() as directory:
            new = actual(example, Path(directory))
        start, end = example.span
        text = text[:start] + new + text[end:]
    DOC.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit("usage: python -m tests.reliability.test_errors_doc --write")
    write()
