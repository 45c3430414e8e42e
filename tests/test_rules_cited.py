"""The rules the code follows live in the project (docs/rules/): nothing cites a folder
outside it, which a user of a clone or a wheel could not open."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUTSIDE = re.compile(r"(?<![\w.-])(\.\./)*shared/(spec|conventions)")


def cited_files():
    yield ROOT / "README.md"
    for folder in ("src", "docs"):
        for path in (ROOT / folder).rglob("*"):
            if path.is_file() and path.suffix in (".py", ".md", ".toml", ".txt", ".rst"):
                yield path


def test_nothing_cites_a_folder_outside_the_project():
    offenders = [
        f"{path.relative_to(ROOT)}:{n}"
        for path in cited_files()
        for n, line in enumerate(path.read_text("utf-8").splitlines(), 1)
        if OUTSIDE.search(line)
    ]
    assert offenders == []


def test_the_rules_pages_exist():
    for page in ("README.md", "settlement.md", "interfaces.md"):
        assert (ROOT / "docs" / "rules" / page).is_file(), page
