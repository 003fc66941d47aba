"""pyproject.toml declares the licence the way current packaging tools expect (no deprecation warnings on
install), and the licence text ships with the project."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_the_license_is_an_spdx_expression_with_its_file() -> None:
    """A TOML table (license = { text = "MIT" }) made pip print a deprecation warning three times per install."""
    assert PROJECT["project"]["license"] == "MIT"
    assert PROJECT["project"]["license-files"] == ["LICENSE"]
    # the string form and license-files need setuptools 77; an older one would refuse them
    requires = PROJECT["build-system"]["requires"]
    assert any(
        re.fullmatch(r"setuptools>=(\d+)(\.\d+)*", r) and int(r.split(">=")[1].split(".")[0]) >= 77 for r in requires
    )
    assert not any("License ::" in c for c in PROJECT["project"].get("classifiers", []))  # setuptools forbids both


def test_the_license_file_is_the_mit_license() -> None:
    text = " ".join((ROOT / "LICENSE").read_text(encoding="utf-8").split())
    assert text.startswith("MIT License Copyright (c) ")
    assert "Permission is hereby granted, free of charge, to any person obtaining a copy" in text
    assert 'THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND' in text
