"""Check that bgfetch's editions cite their pinned spec texts correctly.

``python scripts/spec_lint.py [ROOT]`` prints one line per problem, ``path:line: what
is wrong``, and exits 1 if there is any.  ``lint(root)`` returns the problems.  The
spec texts are the ones in ``specs/`` (scripts/spec_text.py reads them).

What is checked, in every module of ``bgfetch/editions/current/`` (against the current
spec text) and ``bgfetch/editions/draft_2017/`` (against the 2017-10-12 draft):

**Anchors.**  Every ``#anchor`` in a module, class or function docstring is an anchor
of the edition's spec text -- unless the docstring cites it as another document's: its
sentence names a commit of the spec's history in the parentheses around the anchor
("(filled: 4e709be, #background-fetch-registration-match)"), in those right after it
("#create-settled-fetches (0a1eaad)") or outside any parentheses ("as 0a1eaad defines
them (#create-settled-fetches)"), or the anchor follows another spec's name ("Service
Workers #request-matches-cached-item-algorithm").

**Step comments.**  A comment that starts with a step number -- ``# 8.10. Let ...``,
a range ``# 10.5-10.7. ...``, or two steps on one line ``# 3. (...)  4. Let ...`` --
names steps of the algorithm of its scope, which must exist, and must not go back in
the spec's order.

* The algorithm of a def or class is the first anchor in its docstring that names an
  algorithm (``#complete-a-record-algorithm``, ``#dom-backgroundfetchevent-...``); a
  def or class whose docstring names none has its enclosing one's.  Where a section
  holds several algorithms, the docstring may quote the one it means:
  ``#contains-background-fetch-algorithm ("does not contain background fetch")``.
* Steps of another document are not checked: where the docstring's first such anchor
  is another document's (see above), where the docstring says ``filled: <commit>``,
  and where the edition's own steps are only "TODO" (the 2017 draft's event
  constructors and updateUI()): the code then follows the revision that filled them.
  A step comment with no algorithm at all is a problem.
* Each def is a scope of its own (a nested def too, with its enclosing def's
  algorithm).  Within a scope the steps must not go backwards in the spec's order;
  repeating a step is fine.  The branches of an ``if``/``match`` and the handlers of a
  ``try`` each start where the statement starts; after it, numbering goes on from the
  furthest branch that can fall through (one that ends in ``return``, ``raise``,
  ``break`` or ``continue`` does not), so ``# 6.8.5.2`` in an ``except`` that returns
  may precede ``# 6.8.4`` after the ``try``.
* ``# To process response for response:`` numbers the following comments in the named
  sub-list "process response" of the algorithm: those of the def that follows the
  comment directly, or else those of the rest of the scope.  ``# (filled: 3abbda2) To
  process request body:`` does the same for a sub-list the edition does not have: its
  steps are not checked.
* Comments that do not start with a number ("(filled: 0a1eaad) Let ...", "Not a spec
  step: ...") are not steps.

**Observed steps.**  ``step(ANCHOR, "6.4", ...)`` and ``ua.observers.step(ANCHOR,
"8.13", ...)``, where ANCHOR is a string or a module constant holding one: the
algorithm and the step exist ("" is the algorithm as a whole; "process response 7.1.2"
a step of a named sub-list).

**Editions stay apart.**  No module of one edition imports the other
(``bgfetch.editions.draft_2017`` from current, ``..current`` from draft_2017, ...).

**SPEC-NOTES pointers.**  Every ``###`` entry of SPEC-NOTES.md carries a unique id of
its section (``SN-current-N``, ``SN-2017-N``, ``SN-fetch-N``, ``SN-sw-N``).  In every module under
``bgfetch/``, each occurrence of ``SPEC-NOTES`` in a comment or string is followed, in
the same sentence, by at least one such id (``(SPEC-NOTES.md SN-current-3)``) or by a
whole section (``SPEC-NOTES.md §2017``); every ``SN-...`` id cited exists.
"""

from __future__ import annotations

import argparse
import ast
import io
import re
import sys
import tokenize
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from spec_text import (  # noqa: E402
    EDITION_PACKAGES,
    ROOT,
    SPEC_FILES,
    Algorithm,
    Spec,
    StepList,
    load_spec,
    split_step,
)

# "#complete-a-record-algorithm", not "whatwg/fetch#536" nor "https://...#x".
ANCHOR = re.compile(r"(?<![\w/#.-])#[a-z][a-z0-9-]*")
# A commit of a spec's history, abbreviated: "0a1eaad" (hex, with a digit and a letter).
COMMIT = re.compile(r"\b(?=[0-9a-f]*[0-9])(?=[0-9a-f]*[a-f])[0-9a-f]{7,40}\b")
# A sentence ends at ".", ";", "!" or "?" before a space (not the "." of ".md"), or a blank line.
SENTENCE_END = re.compile(r"[.;!?](?=\s|$)|\n\s*\n")
# The name of another spec, right before an anchor: "Service Workers #...".
OTHER_SPEC = re.compile(
    r"(?<!Background )\b(Service Workers|Fetch|HTML|DOM|Infra|Web ?IDL|Streams|Storage"
    r"|Permissions|WebDriver|Mixed Content|CSP|RFC \d+)\s+$"
)
# "(filled: 0a1eaad)": what follows is that revision's, not the pinned text's.
FILLED_FROM = re.compile(r"\bfilled: [0-9a-f]{7}")
# "8.10. Let ...", "10.5-10.7. ...", and a further "  4. Let ..." on the same line.
STEP = r"\d+(?:\.\d+)*"
STEP_COMMENT = re.compile(rf"^(?P<first>{STEP})(?:-(?P<last>{STEP}))?\.(?=\s|$)")
FURTHER_STEP = re.compile(rf"\s\s+(?P<first>{STEP})(?:-(?P<last>{STEP}))?\.\s")
# "To process response for response:", "(filled: 3abbda2) To process request body:".
NAMED_LIST = re.compile(
    r"^(?P<filled>\(filled[^)]*\)\s*)?To (?P<name>[a-z][a-z ]*?)"
    r"(?: for \|?\w+\|?)?(?:, run these steps)?:$"
)
# SPEC-NOTES.md: a pointer to it, an entry's id, a section, an entry's heading.
SPEC_NOTES = re.compile(r"SPEC-NOTES")
NOTE_ID = re.compile(r"\bSN-(?:current|2017|fetch|sw)-\d+\b")
NOTE_SECTION = re.compile(r"§(?:current|2017|fetch|sw)\b")
NOTE_HEADING = re.compile(r"^### (?:(?P<id>SN-(?P<section>[a-z0-9]+)-\d+)\. )?")
NOTE_SECTIONS = {
    "## Current edition": "current",
    "## 2017-10-12 edition": "2017",
    "## Fetch": "fetch",
    "## Service Workers": "sw",
}


@dataclass(frozen=True, order=True)
class Problem:
    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


# -- reading a module --------------------------------------------------------------------


@dataclass
class Comment:
    line: int
    column: int
    text: str  # without the "#" and the space after it


@dataclass
class Module:
    path: Path
    name: str  # relative to the root, for messages
    source: str
    tree: ast.Module
    comments: list[Comment]
    constants: dict[str, str]  # module-level NAME = "string"


def read_module(path: Path, root: Path) -> Module:
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source, filename=str(path))
    comments = [
        Comment(token.start[0], token.start[1], token.string[1:].strip())
        for token in tokenize.generate_tokens(io.StringIO(source).readline)
        if token.type == tokenize.COMMENT
    ]
    constants = {
        node.targets[0].id: node.value.value
        for node in tree.body
        if isinstance(node, ast.Assign)
        and len(node.targets) == 1
        and isinstance(node.targets[0], ast.Name)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    }
    name = path.relative_to(root).as_posix()
    return Module(path, name, source, tree, comments, constants)


Scope = ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef
DEFS = (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)


def docstring(node: Scope, module: Module) -> tuple[str, int]:
    """The docstring of *node* as written in the source (so offsets map to lines), and
    its first line; ("", 0) where there is none."""
    if not (node.body and isinstance(node.body[0], ast.Expr)):
        return "", 0
    value = node.body[0].value
    if not (isinstance(value, ast.Constant) and isinstance(value.value, str)):
        return "", 0
    return ast.get_source_segment(module.source, value) or "", value.lineno


def line_at(text: str, offset: int, first_line: int) -> int:
    return first_line + text.count("\n", 0, offset)


def other_documents(text: str, anchor: re.Match[str]) -> bool:
    """Whether *anchor* (found in *text*) is cited as another document's: its sentence
    names a commit -- in the parentheses around the anchor, in those right after it, or
    outside any parentheses -- or the anchor follows another spec's name."""
    start = max((m.end() for m in SENTENCE_END.finditer(text, 0, anchor.start())), default=0)
    end_match = SENTENCE_END.search(text, anchor.start())
    end = end_match.start() if end_match else len(text)
    if OTHER_SPEC.search(text[start : anchor.start()]):
        return True
    sentence = list(text[start:end])
    for first, last in parenthesized(text, start, end):
        around = first < anchor.start() < last
        after = first >= anchor.end() and not text[anchor.end() : first].strip()
        if not (around or after):  # other parentheses: "(TODO: filled from 0a1eaad)"
            sentence[first - start : last - start] = " " * (last - first)
    return bool(COMMIT.search("".join(sentence)))


def parenthesized(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    """The (first, last) offsets of each parenthesized group in text[start:end]; one
    cut by the sentence's ends runs to that end."""
    opened: list[int] = []
    for index in range(start, end):
        if text[index] == "(":
            opened.append(index)
        elif text[index] == ")":
            yield (opened.pop() if opened else start), index + 1
    for first in opened:
        yield first, end


# -- anchors ---------------------------------------------------------------------------


def check_anchors(module: Module, spec: Spec) -> Iterator[Problem]:
    for node in [module.tree, *(n for n in ast.walk(module.tree) if isinstance(n, DEFS))]:
        text, first_line = docstring(node, module)
        for match in ANCHOR.finditer(text):
            if match[0] in spec.anchors or other_documents(text, match):
                continue
            yield Problem(
                module.name,
                line_at(text, match.start(), first_line),
                f"{match[0]} is not an anchor of the {spec.edition} spec text "
                f"(specs/{spec.path.name})",
            )


# -- step comments ---------------------------------------------------------------------


@dataclass(frozen=True)
class Numbering:
    """What the step comments of a scope are numbered against."""

    algorithm: Algorithm | None = None
    unchecked: bool = False  # another document's steps (or only "TODO" in this edition)


def numbering_of(node: Scope, module: Module, spec: Spec, outer: Numbering) -> Numbering:
    text, _ = docstring(node, module)
    for match in ANCHOR.finditer(text):
        if other_documents(text, match):
            return Numbering(unchecked=True)
        algorithm = spec.algorithm(match[0], hint=text)
        if algorithm is not None:
            return Numbering(algorithm, unchecked=algorithm.todo)
    if FILLED_FROM.search(text):
        return Numbering(unchecked=True)
    return outer


@dataclass(frozen=True)
class Position:
    """Where a scope's numbering stands: which list, and the last step seen in it."""

    sublist: str | None = ""  # "" the algorithm's steps; None another document's
    order: int = -1
    step: str = ""


@dataclass
class StepChecker:
    """Checks the step comments of one scope (a def's body, or a module's)."""

    module: Module
    spec: Spec
    numbering: Numbering
    comments: list[Comment]  # this scope's own, in order (nested defs' taken out)
    nested: list[tuple[Scope, Position]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    next_comment: int = 0
    opened: tuple[str | None, Position] | None = None  # a "To X:" comment, just read

    def run(self, body: list[ast.stmt], start: Position) -> None:
        position, _ = self.block(body, start)
        self.comments_until(10**9, position)

    # Statements, in order, with the comments before and inside them.
    def block(self, body: list[ast.stmt], position: Position) -> tuple[Position, bool]:
        falls_through = True
        for statement in body:
            position = self.comments_until(statement.lineno - 1, position)
            position, continues = self.statement(statement, position)
            falls_through = falls_through and continues
        return position, falls_through

    def statement(self, node: ast.stmt, position: Position) -> tuple[Position, bool]:
        opened, self.opened = self.opened, None
        if isinstance(node, DEFS):
            if opened is not None:  # "To process response ...:" then this def
                sublist, position = opened
                self.nested.append((node, Position(sublist)))
            else:
                self.nested.append((node, Position(position.sublist)))
            return position, True
        if isinstance(node, ast.If):
            return self.branches([node.body, node.orelse], position)
        if isinstance(node, ast.Match):
            return self.branches([case.body for case in node.cases] + [[]], position)
        if isinstance(node, ast.Try | ast.TryStar):
            after_body, body_continues = self.block(node.body, position)
            ends = [(after_body, body_continues)] if not node.orelse else []
            for handler in node.handlers:
                ends.append(self.block(handler.body, position))
            if node.orelse:
                ends.append(self.block(node.orelse, after_body))
            position, continues = merge(ends)
            if node.finalbody:
                position, finally_continues = self.block(node.finalbody, position)
                continues = continues and finally_continues
            return position, continues
        if isinstance(node, ast.For | ast.AsyncFor | ast.While):
            position, _ = self.block(node.body, position)
            position, _ = self.block(node.orelse, position)
            return position, True
        if isinstance(node, ast.With | ast.AsyncWith):
            return self.block(node.body, position)
        position = self.comments_until(node.end_lineno or node.lineno, position)
        return position, not isinstance(node, ast.Return | ast.Raise | ast.Break | ast.Continue)

    def branches(self, bodies: list[list[ast.stmt]], position: Position) -> tuple[Position, bool]:
        ends = [self.block(body, position) if body else (position, True) for body in bodies]
        return merge(ends)

    def comments_until(self, last_line: int, position: Position) -> Position:
        while (
            self.next_comment < len(self.comments)
            and self.comments[self.next_comment].line <= last_line
        ):
            position = self.comment(self.comments[self.next_comment], position)
            self.next_comment += 1
        return position

    def comment(self, comment: Comment, position: Position) -> Position:
        if named := NAMED_LIST.match(comment.text):
            sublist = None if named["filled"] else named["name"]
            self.opened = (sublist, position)
            algorithm = self.numbering.algorithm
            if sublist and algorithm and not self.numbering.unchecked:
                if sublist not in algorithm.sublists:
                    self.problem(comment.line, f'{algorithm.anchor} has no steps "To {sublist}"')
            return Position(sublist)
        first = STEP_COMMENT.match(comment.text)
        if not first:
            return position
        self.opened = None
        rest = comment.text[first.end() :]
        for match in [first, *FURTHER_STEP.finditer(rest)]:
            position = self.step(comment.line, match["first"], match["last"], position)
        return position

    def step(self, line: int, first: str, last: str | None, position: Position) -> Position:
        algorithm = self.numbering.algorithm
        if self.numbering.unchecked or position.sublist is None:
            return position
        if algorithm is None:
            self.problem(line, f"step {first}: no enclosing def or class names an algorithm")
            return position
        steps: StepList = algorithm
        where = algorithm.anchor
        if position.sublist:
            sublist = algorithm.sublists.get(position.sublist)
            if sublist is None:
                return position  # reported at the "To ..." comment
            steps = sublist
            where = f'"{position.sublist}" (step {sublist.within} of {algorithm.anchor})'
        missing = [n for n in (first, last) if n is not None and n not in steps]
        for number in missing:
            self.problem(line, f"step {number} is not a step of {where}")
        if missing:
            return position
        order = steps.order(first)
        if last is not None and steps.order(last) < order:
            self.problem(line, f"steps {first}-{last}: the range goes backwards")
        if order < position.order:
            self.problem(
                line, f"step {first} comes after step {position.step}: out of {where}'s order"
            )
        return replace(position, order=order, step=first)

    def problem(self, line: int, message: str) -> None:
        self.problems.append(Problem(self.module.name, line, message))


def merge(ends: list[tuple[Position, bool]]) -> tuple[Position, bool]:
    """Where numbering stands after branches: the furthest of those that fall through."""
    through = [position for position, continues in ends if continues]
    candidates = through or [position for position, _ in ends]
    furthest = max(candidates, key=lambda position: position.order)
    if len({position.sublist for position in candidates}) > 1:
        furthest = candidates[-1]
    return furthest, bool(through)


def lines_of(node: Scope, module: Module) -> tuple[int, int]:
    """The lines of a def or class, with the comments indented under it that follow its
    last statement ("# 8. Return WebDriver success." ending a function)."""
    if not isinstance(node, DEFS):
        return 1, 10**9
    last = node.end_lineno or node.lineno
    comments = {comment.line: comment for comment in module.comments}
    lines = module.source.splitlines()
    while last < len(lines):
        following = lines[last]  # the line after *last* (lines are 1-based)
        comment = comments.get(last + 1)
        if following.strip() and not (comment and comment.column > node.col_offset):
            break
        last += 1
    return node.lineno, last


def own_comments(node: Scope, module: Module) -> list[Comment]:
    """The comments inside *node* that are not inside a def or class nested in it."""
    first, last = lines_of(node, module)
    inner = [
        lines_of(child, module)
        for child in ast.walk(node)
        if isinstance(child, DEFS) and child is not node
    ]
    return [
        comment
        for comment in module.comments
        if first <= comment.line <= last
        and not any(start <= comment.line <= end for start, end in inner)
    ]


def check_steps(module: Module, spec: Spec) -> Iterator[Problem]:
    pending: list[tuple[Scope, Numbering, Position]] = [(module.tree, Numbering(), Position())]
    while pending:
        node, outer, start = pending.pop(0)
        numbering = numbering_of(node, module, spec, outer) if isinstance(node, DEFS) else outer
        checker = StepChecker(module, spec, numbering, own_comments(node, module))
        checker.run(node.body, start)
        yield from checker.problems
        pending.extend((child, numbering, position) for child, position in checker.nested)


def check_step_calls(module: Module, spec: Spec) -> Iterator[Problem]:
    """step(ANCHOR, "6.4", ...): the algorithm and its step exist.  Step "" is the
    algorithm, or a section written as prose (the draft's #privacy-and-bandwidth-use),
    as a whole."""
    for node in ast.walk(module.tree):
        if not (isinstance(node, ast.Call) and len(node.args) >= 2):
            continue
        func = node.func
        if (func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")) != "step":
            continue
        anchor, number = node.args[0], node.args[1]
        anchor_text = ""
        if isinstance(anchor, ast.Name):
            anchor_text = module.constants.get(anchor.id, "")
        elif isinstance(anchor, ast.Constant) and isinstance(anchor.value, str):
            anchor_text = anchor.value
        if not anchor_text.startswith("#"):
            continue
        if not (isinstance(number, ast.Constant) and isinstance(number.value, str)):
            continue
        algorithm = spec.algorithms.get(anchor_text)
        if anchor_text not in spec.anchors:
            message = f"{anchor_text} is not an anchor of the {spec.edition} spec text"
            yield Problem(module.name, node.lineno, message)
        elif algorithm is None and number.value:
            message = f"step {number.value}: {anchor_text} is not an algorithm (it has no steps)"
            yield Problem(module.name, node.lineno, message)
        elif algorithm is not None and not algorithm.has(number.value):
            sublist, step = split_step(number.value)
            where = f'"{sublist}" of {algorithm.anchor}' if sublist else algorithm.anchor
            yield Problem(module.name, node.lineno, f"step {step} is not a step of {where}")


# -- editions stay apart -----------------------------------------------------------------


def check_imports(module: Module, package: str, other: str) -> Iterator[Problem]:
    """No import of bgfetch.editions.<other> from a module of bgfetch.editions.<package>."""
    here = module.name.removesuffix(".py").split("/")  # an __init__ stands for its package
    forbidden = f"bgfetch.editions.{other}"
    for node in ast.walk(module.tree):
        if not isinstance(node, ast.Import | ast.ImportFrom):
            continue
        imported: list[str] = []
        if isinstance(node, ast.Import):
            imported = [alias.name for alias in node.names]
        else:
            base = node.module or ""
            if node.level:
                base = ".".join(here[: len(here) - node.level] + ([base] if base else []))
            imported = [base] + [f"{base}.{alias.name}" for alias in node.names]
        for name in imported:
            if name == forbidden or name.startswith(forbidden + "."):
                yield Problem(
                    module.name,
                    node.lineno,
                    f"the {package} edition imports the {other} edition ({name})",
                )
                break


# -- SPEC-NOTES pointers -----------------------------------------------------------------


def note_ids(root: Path) -> tuple[set[str], list[Problem]]:
    """The ids of SPEC-NOTES.md's entries, and what is wrong with its headings."""
    ids: set[str] = set()
    problems: list[Problem] = []
    section = ""
    path = root / "SPEC-NOTES.md"
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        for title, name in NOTE_SECTIONS.items():
            if line.startswith(title):
                section = name
        heading = NOTE_HEADING.match(line)
        if not heading:
            continue
        id = heading["id"]
        if id is None:
            problems.append(Problem("SPEC-NOTES.md", number, "an entry without an id"))
        elif heading["section"] != section:
            problems.append(Problem("SPEC-NOTES.md", number, f"{id} is not in its section"))
        elif id in ids:
            problems.append(Problem("SPEC-NOTES.md", number, f"{id} is used twice"))
        else:
            ids.add(id)
    return ids, problems


def texts_of(source: str) -> Iterator[tuple[str, int]]:
    """The comments (consecutive comment lines as one text) and strings of a module,
    each with its first line."""
    block: list[str] = []
    block_start = last_line = column = 0
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            if block and token.start == (last_line + 1, column):
                block.append(token.string[1:])
            else:
                if block:
                    yield "\n".join(block), block_start
                block, block_start, column = [token.string[1:]], token.start[0], token.start[1]
            last_line = token.start[0]
        elif token.type == tokenize.STRING:
            yield token.string, token.start[0]
    if block:
        yield "\n".join(block), block_start


def check_note_pointers(path: Path, root: Path, ids: set[str]) -> Iterator[Problem]:
    name = path.relative_to(root).as_posix()
    for text, first_line in texts_of(path.read_text(encoding="utf-8")):
        for pointer in SPEC_NOTES.finditer(text):
            end = SENTENCE_END.search(text, pointer.end())
            sentence = text[pointer.end() : end.start() if end else len(text)]
            if not (NOTE_ID.search(sentence) or NOTE_SECTION.search(sentence)):
                yield Problem(
                    name,
                    line_at(text, pointer.start(), first_line),
                    "a SPEC-NOTES pointer without an entry id (SN-...) or a section (§...)",
                )
        for cited in NOTE_ID.finditer(text):
            if cited[0] not in ids:
                yield Problem(
                    name,
                    line_at(text, cited.start(), first_line),
                    f"{cited[0]} is not an entry of SPEC-NOTES.md",
                )


# -- all together --------------------------------------------------------------------------


def lint(root: Path = ROOT) -> list[Problem]:
    """Every problem in the tree at *root* (which holds bgfetch/, specs/, SPEC-NOTES.md)."""
    problems: list[Problem] = []
    for edition, package in EDITION_PACKAGES.items():
        spec = load_spec(edition, root)
        (other,) = (p for p in EDITION_PACKAGES.values() if p != package)
        for path in sorted((root / "bgfetch" / "editions" / package).rglob("*.py")):
            module = read_module(path, root)
            problems += check_anchors(module, spec)
            problems += check_steps(module, spec)
            problems += check_step_calls(module, spec)
            problems += check_imports(module, package, other)
    ids, note_problems = note_ids(root)
    problems += note_problems
    for path in sorted((root / "bgfetch").rglob("*.py")):
        problems += check_note_pointers(path, root, ids)
    return sorted(set(problems))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("root", nargs="?", type=Path, default=ROOT, help="the repository")
    root = parser.parse_args(argv).root.resolve()
    missing = [
        f"specs/{name}" for name in SPEC_FILES.values() if not (root / "specs" / name).exists()
    ]
    if missing:
        print(f"{root}: no {', '.join(missing)}", file=sys.stderr)
        return 2
    problems = lint(root)
    for problem in problems:
        print(problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
