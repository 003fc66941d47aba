"""The command line: listing, running, exit codes and argument handling."""

from pathlib import Path

import pytest

import demos
from demos import ClaimFailed, check
from demos.context import format_table
from demos.registry import LESSONS
from demos.runner import main


def test_listing_names_every_lesson_and_the_main_job(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 0
    listing = capsys.readouterr().out
    for lesson in LESSONS:
        assert lesson.name in listing and lesson.summary in listing
    assert "main" in listing


def test_the_ten_lessons_of_the_issue_are_registered_in_order() -> None:
    names = [lesson.name for lesson in LESSONS]
    assert names == [
        "perceptron",
        "xor",
        "moons",
        "circles",
        "digits",
        "tabular",
        "depth_vs_width",
        "activations",
        "shapes",
        "linear_collapse",
    ]


def test_unknown_lesson_exits_2_and_lists_the_choices(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["no_such_lesson"]) == 2
    assert "perceptron" in capsys.readouterr().err


def test_run_writes_into_the_out_dir_and_reports_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["perceptron", "--quick", "--out", str(tmp_path / "figures"), "--seed", "3"]) == 0
    out = capsys.readouterr().out
    assert "claim verified" in out and "seed 3" in out
    assert (tmp_path / "figures" / "perceptron_lines.png").exists()


def test_a_failed_claim_exits_1_with_the_evidence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import demos.perceptron

    def failing(ctx: demos.LessonContext) -> None:
        check(False, "the sky is green", "it was blue")

    monkeypatch.setattr(demos.perceptron, "run", failing)
    assert main(["perceptron", "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "the sky is green" in err and "it was blue" in err


def test_check_passes_silently_and_raises_an_assertion_subclass() -> None:
    check(True, "ok", "fine")
    with pytest.raises(ClaimFailed, match="claim failed: x > 0"):
        check(False, "x > 0", "x = -1")
    assert issubclass(ClaimFailed, AssertionError)


def test_run_lesson_rejects_unknown_names(tmp_path: Path) -> None:
    with pytest.raises(KeyError, match="no lesson named 'nope'"):
        demos.run_lesson("nope", out_dir=tmp_path)


def test_lessons_are_deterministic_given_the_seed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    reports = []
    for run in range(2):
        demos.run_lesson("linear_collapse", out_dir=tmp_path / str(run), quick=True, seed=5)
        reports.append(capsys.readouterr().out)
    assert reports[0] == reports[1]


def test_format_table_aligns_columns_and_rounds_floats() -> None:
    text = format_table(["name", "value"], [["a", 0.123456], ["long name", 12]])
    lines = text.splitlines()
    assert lines[0].startswith("name") and "0.1235" in lines[2]
    assert len({len(line) for line in lines}) == 1
