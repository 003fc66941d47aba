"""docs/make_images.py regenerates every picture, and how-it-works.md only links to files that exist."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def relative_links(markdown: Path) -> list[str]:
    return [t for t in LINK.findall(markdown.read_text(encoding="utf-8")) if not t.startswith(("http:", "https:"))]


@pytest.mark.parametrize("document", [DOCS / "how-it-works.md", ROOT / "README.md"], ids=lambda p: p.name)
def test_relative_links_resolve(document: Path) -> None:
    links = relative_links(document)
    assert links, f"{document.name} links to nothing"
    missing = [link for link in links if not (document.parent / link).exists()]
    assert not missing, f"{document.name} links to missing files: {missing}"


QUOTE = re.compile(r"(<!-- quote ([\w.]+) ([\w ]+) -->\n```python\n)(.*?)```", re.S)


def quoted_source(module_name: str, names: str) -> str:
    """The source a quote marker names: the objects of that module, one after the other."""
    import importlib
    import inspect
    import textwrap

    module = importlib.import_module(module_name)
    return "\n\n".join(textwrap.dedent(inspect.getsource(getattr(module, n))) for n in names.split())


def test_the_tour_quotes_the_real_code() -> None:
    """Every block marked `<!-- quote module Name ... -->` is exactly the source of those objects
    (`python -m tests.docs.test_how_it_works --write` copies it again)."""
    text = (DOCS / "how-it-works.md").read_text(encoding="utf-8")
    quotes = QUOTE.findall(text)
    assert {names for _, _, names, _ in quotes} >= {"Mul mul", "run_backward"}, "the tour quotes Mul and the walk"
    for _, module_name, names, block in quotes:
        assert block == quoted_source(module_name, names), (
            f"the tour's quote of {module_name} {names} is not the code; copy it again with "
            ".venv/bin/python -m tests.docs.test_how_it_works --write"
        )


def test_the_tour_names_the_engine_functions_it_links() -> None:
    text = (DOCS / "how-it-works.md").read_text(encoding="utf-8")
    import engine.autograd
    import engine.function

    for name in ("run_backward", "gradients_for_inputs", "accumulate", "release_values", "observe_backward", "Capture"):
        assert f"`{name}" in text and hasattr(engine.autograd, name), name
    for name in ("apply", "save_for_backward", "check_versions", "release", "call"):
        assert hasattr(engine.function.Function, name), name
        assert name in text, name


def test_make_images_writes_every_picture_the_docs_use(tmp_path: Path) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_images", DOCS / "make_images.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    written = module.main([str(tmp_path)])
    names = {path.name for path in written}
    used = {Path(link).name for link in relative_links(DOCS / "how-it-works.md") if link.startswith("images/")}
    assert used <= names, f"the tour uses images the script does not make: {used - names}"
    for path in written:
        assert path.stat().st_size > 500, path
        if path.suffix == ".svg":
            svg = path.read_text(encoding="utf-8")
            assert "<svg" in svg and "<text" in svg, path
    assert "Backward pass of" in (tmp_path / "explain.txt").read_text(encoding="utf-8")
    # The committed copies are the script's output (same files, same kind of content).
    for name in used:
        assert (DOCS / "images" / name).exists(), name


if __name__ == "__main__":
    import sys

    if sys.argv[1:] == ["--write"]:
        path = DOCS / "how-it-works.md"
        text = path.read_text(encoding="utf-8")
        path.write_text(QUOTE.sub(lambda m: m.group(1) + quoted_source(m.group(2), m.group(3)) + "```", text), "utf-8")
