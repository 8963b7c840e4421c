"""The spec change as a diff: each module of the 2017-10-12 edition against its
counterpart in the current edition, module by module.

    python scripts/edition_diff.py               # every module, comments included
    python scripts/edition_diff.py --code-only   # hide comment- and docstring-only changes
    python scripts/edition_diff.py --stat        # changed lines per module, and in all
    python scripts/edition_diff.py perform       # one module (or several)

Counterpart modules have the same name in both editions (bgfetch/editions/*/__init__.py
lists them), so ``diff -r bgfetch/editions/draft_2017 bgfetch/editions/current`` says
the same; this script adds the summary and the code-only view.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import io
import sys
import tokenize
from pathlib import Path

EDITIONS = Path(__file__).resolve().parent.parent / "bgfetch" / "editions"
OLD, NEW = "draft_2017", "current"


def code_only(source: str) -> list[str]:
    """*source*'s lines without comments and docstrings (blank lines dropped too)."""
    lines = source.splitlines()
    drop: set[int] = set()  # 0-based line numbers of docstrings
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            first = node.body[0] if node.body else None
            if (
                isinstance(first, ast.Expr)
                and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)
            ):
                assert first.end_lineno is not None
                drop.update(range(first.lineno - 1, first.end_lineno))
    cut: dict[int, int] = {}  # line -> column where its comment starts
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            cut[token.start[0] - 1] = token.start[1]
    kept = []
    for number, line in enumerate(lines):
        if number in drop:
            continue
        line = line[: cut[number]].rstrip() if number in cut else line.rstrip()
        if line.strip():
            kept.append(line)
    return kept


def module_lines(path: Path, *, strip: bool) -> list[str]:
    if not path.exists():
        return []
    source = path.read_text()
    return code_only(source) if strip else source.splitlines()


def modules(names: list[str]) -> list[str]:
    found = {p.stem for edition in (OLD, NEW) for p in (EDITIONS / edition).glob("*.py")}
    unknown = sorted(set(names) - found)
    if unknown:
        raise SystemExit(f"no such module in either edition: {', '.join(unknown)}")
    return sorted(names or found, key=lambda name: (name != "__init__", name))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", help="module names (default: all)")
    parser.add_argument(
        "--code-only", action="store_true", help="hide comment- and docstring-only changes"
    )
    parser.add_argument("--stat", action="store_true", help="only the changed-line counts")
    args = parser.parse_args(argv)
    total_changed = total_lines = 0
    for name in modules(args.modules):
        old_path, new_path = EDITIONS / OLD / f"{name}.py", EDITIONS / NEW / f"{name}.py"
        old = module_lines(old_path, strip=args.code_only)
        new = module_lines(new_path, strip=args.code_only)
        diff = list(
            difflib.unified_diff(
                old, new, f"{OLD}/{name}.py", f"{NEW}/{name}.py", lineterm="", n=3
            )
        )
        changed = sum(
            1 for line in diff[2:] if line[:1] in "+-" and not line.startswith(("+++", "---"))
        )
        total_changed += changed
        total_lines += max(len(old), len(new))
        where = "" if old and new else f" (only in {NEW if new else OLD})"
        if args.stat:
            print(f"{name + '.py' + where:40} {changed:5} changed of {len(old)} / {len(new)} lines")
        elif diff:
            print("\n".join(diff))
    if args.stat:
        share = 100 * total_changed / total_lines if total_lines else 0
        print(f"{'in all':40} {total_changed:5} changed lines, {share:.0f}% of the editions' size")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:  # `make diff | head`: the reader has seen enough
        sys.stderr.close()
        sys.exit(0)
