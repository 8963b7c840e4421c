"""The two editions diff as the spec change (scripts/edition_diff.py, `make diff`)."""

from __future__ import annotations

import difflib
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EDITIONS = ROOT / "bgfetch" / "editions"
SCRIPT = ROOT / "scripts" / "edition_diff.py"
# Modules whose concept exists in one edition only.
ONLY_CURRENT = {"automation"}


def modules(edition: str) -> set[str]:
    return {p.stem for p in (EDITIONS / edition).glob("*.py")}


def test_counterpart_modules_have_the_same_names():
    assert modules("current") - modules("draft_2017") == ONLY_CURRENT
    assert modules("draft_2017") - modules("current") == set()


def test_an_edition_imports_its_own_modules_relatively():
    absolute = re.compile(r"^\s*(from|import)\s+bgfetch\.editions\.(current|draft_2017)\b", re.M)
    for path in EDITIONS.glob("*/*.py"):
        assert not absolute.search(path.read_text()), f"{path}: import it relatively"


def without_edition_names(line: str) -> str:
    for name in ("draft_2017", "2017-10-12", "current"):
        line = line.replace(name, "EDITION")
    return line


def test_no_changed_line_differs_only_by_the_editions_name():
    for name in sorted(modules("current") & modules("draft_2017")):
        old = (EDITIONS / "draft_2017" / f"{name}.py").read_text().splitlines()
        new = (EDITIONS / "current" / f"{name}.py").read_text().splitlines()
        diff = list(difflib.unified_diff(old, new, lineterm="", n=0))[2:]
        def named(sign: str, diff: list[str] = diff) -> set[str]:
            """The changed lines that name an edition, with the name taken out."""
            return {
                without_edition_names(d[1:])
                for d in diff
                if d.startswith(sign) and without_edition_names(d[1:]) != d[1:]
            }

        same = named("-") & named("+")
        assert not same, f"{name}.py: lines that differ only by the edition's name: {same}"


def run(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, check=True
    )
    return done.stdout


def test_make_diff_shows_each_module_and_a_summary():
    stat = run("--stat")
    assert "perform.py" in stat and "automation.py (only in current)" in stat
    assert stat.splitlines()[-1].startswith("in all")
    full = run("perform")
    assert "--- draft_2017/perform.py" in full and "+++ current/perform.py" in full
    assert "+async def complete_a_record(" in full


def test_code_only_hides_comment_only_changes():
    full, code = run("instances"), run("--code-only", "instances")
    assert "# 6.10. Fire an event named" in full
    assert "# 6.10." not in code and '"""' not in code
    assert len(code) < len(full)


def test_an_unknown_module_is_named():
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "nosuch"], capture_output=True, text=True
    )
    assert done.returncode != 0 and "nosuch" in done.stderr
