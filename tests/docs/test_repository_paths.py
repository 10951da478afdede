"""Every file of the repository the documentation names is there.

The README, CONTRIBUTING.md and the pages under docs/ name source files for readers to
open (`scimbridge/vendors/records/<vendor>.json`); a file that moved leaves the reader
at a dead end. A ``<placeholder>`` segment stands for any name, and at least one file
must match it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[2]
PAGES = sorted(
    [REPOSITORY / "README.md", REPOSITORY / "CONTRIBUTING.md", *(REPOSITORY / "docs").rglob("*.md")]
)
SOURCE_TREES = ("scimbridge", "emulators", "examples", "docs", "tests", "scripts")
"""Where a path names a file of the repository (not an admin's file, nor what a run writes)."""
NAMED_PATH = re.compile(rf"`((?:{'|'.join(SOURCE_TREES)})/[^`\s]*)`")
PLACEHOLDER = re.compile(r"<[^>/]+>")


def missing_paths(page: Path) -> list[str]:
    missing = []
    for named in sorted(set(NAMED_PATH.findall(page.read_text("utf-8")))):
        pattern = PLACEHOLDER.sub("*", named.rstrip("/"))
        if not any(REPOSITORY.glob(pattern)):
            missing.append(named)
    return missing


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(REPOSITORY)))
def test_every_repository_file_a_page_names_exists(page: Path) -> None:
    assert missing_paths(page) == []
