"""Read a pinned Bikeshed spec text: its anchors, and the numbered steps of its algorithms.

The two editions bgfetch implements are kept in ``specs/`` (see specs/README.md)::

    spec = load_spec("current")                  # or "2017-10-12"
    "#complete-a-record-algorithm" in spec.anchors
    algorithm = spec.algorithms["#complete-a-record-algorithm"]
    algorithm.steps                 # ["1", "2", ..., "13", "13.1", "13.2", "14", ...]
    algorithm.sublists["process response"].steps      # ["1", "1.1", ..., "8.2"]

Anchors are written as the code cites them, with their "#".

**Anchors** are what Bikeshed gives an id: headings (``## Title ## {#id}``), explicit
``id=`` attributes, and definitions.  A ``<dfn>`` without an explicit id gets the one
Bikeshed generates: ``for-text`` for a plain term (``<dfn>stored body bytes total</dfn>``
inside ``<div dfn-for="background fetch">`` is ``#background-fetch-stored-body-bytes-total``),
``dom-for-name`` for IDL members (``<dfn method>fetch(|id|, ...)</dfn>`` for
BackgroundFetchManager is ``#dom-backgroundfetchmanager-fetch``; a constructor is
``#dom-backgroundfetchevent-backgroundfetchevent``) and ``eventdef-for-name`` for events.
IDL members that have no ``<dfn>`` in the prose are defined by the IDL block itself,
with the same ids (``#dom-backgroundfetchactivefetches-match`` in the 2017 draft).

**Algorithms** are the ``<div algorithm>`` blocks.  Each is named by the id of the term
it defines and, where the title of the heading above it names that term (``## [=Complete
a record=] ## {#complete-a-record-algorithm}``, ``### {{BackgroundFetchManager/fetch()}}
### {#background-fetch-manager-fetch}``), by that heading's id too.  A section such as
#contains-background-fetch-algorithm holds two algorithms: its heading names the first
("contains background fetch"); the second is #does-not-contain-background-fetch.
An algorithm written as prose or as a bulleted list (#background-fetch-display-algorithm)
has no numbered steps.

**Steps**: Bikeshed's markdown numbers every item "1." and nests lists by indentation;
a step is named by its dotted path in the tree ("8.13.1").  A step that introduces a
*named* list of steps -- "To [=process response=] for |response|, run these steps:" in
step 11 of #complete-a-record-algorithm -- starts a sub-list numbered from 1 on its
own, reachable as ``algorithm.sublists["process response"]``; its steps are not among
the algorithm's ``steps``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Edition name -> its pinned spec text (under specs/) and its package under bgfetch/editions/.
SPEC_FILES: dict[str, str] = {
    "current": "background-fetch-current.bs",
    "2017-10-12": "background-fetch-2017-10-12.bs",
}
EDITION_PACKAGES: dict[str, str] = {
    "current": "current",
    "2017-10-12": "draft_2017",
}


# -- the parsed spec ---------------------------------------------------------------------


@dataclass
class StepList:
    """Numbered steps, by dotted number in document order."""

    steps: list[str] = field(default_factory=list)
    lines: dict[str, int] = field(default_factory=dict)  # step -> line in the .bs file
    texts: dict[str, str] = field(default_factory=dict)  # step -> its first line, plain

    def __contains__(self, step: object) -> bool:
        return step in self.lines

    def order(self, step: str) -> int:
        """Where *step* is in document order (0 for the first step)."""
        return self.steps.index(step)

    def add(self, step: str, line: int, text: str) -> None:
        self.steps.append(step)
        self.lines[step] = line
        self.texts[step] = text


@dataclass
class SubList(StepList):
    """A named list of steps inside a step: "To [=process response=] ..., run these steps:"."""

    name: str = ""
    within: str = ""  # the algorithm's step that holds it, e.g. "11"


@dataclass
class Algorithm(StepList):
    """One ``<div algorithm>``: what it defines and its numbered steps."""

    anchor: str = ""  # the anchor it is best known by (its heading's, else its dfn's)
    anchors: list[str] = field(default_factory=list)  # every anchor that names it
    name: str = ""  # the term it defines, e.g. "complete a record", "fetch()"
    line: int = 0  # where the <div algorithm> starts
    section: str = ""  # the anchor of the heading it is under
    sublists: dict[str, SubList] = field(default_factory=dict)

    @property
    def todo(self) -> bool:
        """True where the edition leaves the steps to be written: every step is "TODO"."""
        return bool(self.steps) and all(self.texts[step].startswith("TODO") for step in self.steps)

    def has(self, step: str) -> bool:
        """Whether *step* names this algorithm ("") or one of its steps: "11", or in a
        named sub-list "process response 7.1.2" (or "process response" as a whole)."""
        sublist, number = split_step(step)
        steps: StepList | None = self.sublists.get(sublist) if sublist else self
        return steps is not None and (number == "" or number in steps)

    def step_lists(self) -> Iterator[tuple[str, StepList]]:
        """("", the algorithm's own steps), then (name, steps) of each named sub-list."""
        yield "", self
        yield from self.sublists.items()


@dataclass
class Spec:
    edition: str
    path: Path
    anchors: set[str] = field(default_factory=set)
    algorithms: dict[str, Algorithm] = field(default_factory=dict)  # anchor -> algorithm
    in_order: list[Algorithm] = field(default_factory=list)  # each once, in spec order
    sections: dict[str, list[Algorithm]] = field(default_factory=dict)  # heading -> those in it

    def algorithm(self, anchor: str, hint: str = "") -> Algorithm | None:
        """The algorithm *anchor* names.  Where *anchor* is a section holding several,
        the one whose name *hint* quotes ("does not contain background fetch")."""
        for candidate in self.sections.get(anchor, []):
            if candidate.name and f'"{candidate.name}"' in hint.lower():
                return candidate
        return self.algorithms.get(anchor)


@cache
def load_spec(edition: str, root: Path = ROOT) -> Spec:
    """The pinned spec text of *edition* ("current" or "2017-10-12"), parsed."""
    if edition not in SPEC_FILES:
        raise ValueError(f"unknown edition {edition!r}; known: {', '.join(SPEC_FILES)}")
    path = root / "specs" / SPEC_FILES[edition]
    return parse_spec(path.read_text(encoding="utf-8"), edition, path)


def split_step(step: str) -> tuple[str, str]:
    """ "process response 7.1.2" -> ("process response", "7.1.2"); "8.13" -> ("", "8.13")."""
    match = re.fullmatch(r"\s*([a-z][a-z ]*?)?\s*(\d+(?:\.\d+)*)?\s*", step)
    if match is None:
        return "", step  # not a step number: no list has it
    return match[1] or "", match[2] or ""


# -- Bikeshed's ids ----------------------------------------------------------------------

IDL_DFN_TYPES = ("method", "attribute", "constructor", "dict-member", "const", "enum-value")


def simplify(text: str) -> str:
    """Text as Bikeshed makes it into an id: "BackgroundFetchManager fetch" ->
    "backgroundfetchmanager-fetch"."""
    text = text.strip().lower().replace("()", "")
    text = re.sub(r"[\s/(,]+", "-", text)
    text = re.sub(r"[^a-z0-9_-]", "", text)
    return text.strip("-")


def dfn_id(dfn_type: str, for_: str, text: str) -> str:
    """The id Bikeshed generates for a definition without an explicit one."""
    if dfn_type in IDL_DFN_TYPES:
        name = text.split("(")[0]  # a method's arguments are not part of its id
        return "dom-" + simplify(f"{for_}-{name}" if for_ else name)
    if dfn_type == "event":
        return "eventdef-" + simplify(f"{for_}-{text}" if for_ else text)
    if dfn_type in ("interface", "dictionary", "enum", "callback"):
        prefix = {"dictionary": "dictdef-", "enum": "enumdef-", "callback": "callbackdef-"}
        return prefix.get(dfn_type, "") + simplify(text)
    return simplify(f"{for_} {text}" if for_ else text)


def plain(text: str) -> str:
    """Bikeshed shorthands read as text: [=a/b|c=] -> c, {{A/b()}} -> b(), |v| -> v."""
    text = re.sub(r"\[=(?:[^=\]|]*/)?([^=\]|]*)(?:\|([^=\]]*))?=\]", lambda m: m[2] or m[1], text)
    text = re.sub(r"\{\{(?:[^}/]*/)?([^}|]*)(?:\|([^}]*))?\}\}", lambda m: m[2] or m[1], text)
    text = re.sub(r"<[^>]+>", "", text)
    return text.replace("|", "").replace("\\`", "`").strip()


# -- parsing -----------------------------------------------------------------------------

HEADING = re.compile(r"^\s*(#{1,6})\s+(.*?)\s+#*\s*\{#([\w-]+)\}\s*$")
TAG = re.compile(r"<(/?)(div|tbody)\b([^>]*)>|<dfn\b([^>]*)>(.*?)</dfn>")
EXPLICIT_ID = re.compile(r"<\w[^>]*?(?<![\w-])id=[\"']?([\w-]+)")
ATTRIBUTE = re.compile(r"([\w-]+)(?:=(\"[^\"]*\"|'[^']*'|[^\s>]+))?")
ITEM = re.compile(r"^(\s*)\d+\.\s+(.*)$")
NAMED_LIST = re.compile(r"^\s*To \[=([^=\]]+)=\].*run these steps:\s*$")
TITLE_TERM = re.compile(
    r"\[=(?:([^=\]|]*)/)?([^=\]|]*)(?:\|[^=\]]*)?=\]|\{\{(?:(\w+)/)?([\w()]+)\}\}"
)


@dataclass
class Dfn:
    id: str
    type: str
    for_: str
    texts: list[str]  # its linking texts, lower case
    line: int


@dataclass
class Heading:
    id: str
    title: str
    line: int


def attributes(text: str) -> dict[str, str]:
    return {name: value.strip("\"'") for name, value in ATTRIBUTE.findall(text)}


def parse_spec(source: str, edition: str, path: Path) -> Spec:
    spec = Spec(edition, path)
    lines = source.splitlines()
    headings: list[Heading] = []
    dfns: list[Dfn] = []
    idl: list[str] = []
    algorithm_blocks: list[tuple[int, int]] = []  # (first line, last line), 1-based

    open_tags: list[dict[str, str]] = []  # the open <div>s and <tbody>s, with attributes
    algorithm_start: list[tuple[int, int]] = []  # (line, depth) of an open <div algorithm>
    skipping = ""  # inside a <pre> or <script> block: its closing tag
    for number, line in enumerate(lines, start=1):
        if skipping:
            if skipping in line:
                skipping = ""
            elif skipping == "</script>":
                idl.append(line)
            continue
        if re.match(r"\s*<pre\b", line) and "</pre>" not in line:
            skipping = "</pre>"
            continue
        if re.match(r"\s*<script type=[\"']?idl", line):
            skipping = "</script>"
            continue
        if title := HEADING.match(line):
            headings.append(Heading("#" + title[3], title[2], number))
            continue
        spec.anchors.update("#" + id for id in EXPLICIT_ID.findall(line))
        for tag in TAG.finditer(line):
            closing, element, attrs, dfn_attrs, dfn_text = tag.groups()
            if element and closing:
                open_tags.pop()
                if algorithm_start and algorithm_start[-1][1] == len(open_tags):
                    algorithm_blocks.append((algorithm_start.pop()[0], number))
            elif element:
                tag_attributes = attributes(attrs)
                if "algorithm" in tag_attributes:
                    algorithm_start.append((number, len(open_tags)))
                open_tags.append(tag_attributes)
            else:
                dfns.append(read_dfn(attributes(dfn_attrs), dfn_text, open_tags, number))

    dfns.extend(idl_dfns("\n".join(idl)))
    spec.anchors.update(heading.id for heading in headings)
    spec.anchors.update(dfn.id for dfn in dfns)

    for first, last in sorted(algorithm_blocks):
        algorithm = read_algorithm(lines, first, last)
        inside = [dfn for dfn in dfns if first <= dfn.line <= last]
        above = [heading for heading in headings if heading.line < first]
        heading = above[-1] if above else None
        if inside:
            algorithm.name = inside[0].texts[0]
            algorithm.anchors.append(inside[0].id)
        if heading:
            algorithm.section = heading.id
            spec.sections.setdefault(heading.id, []).append(algorithm)
            if (inside and names(heading.title, inside[0])) or not algorithm.anchors:
                algorithm.anchors.insert(0, heading.id)
        algorithm.anchor = algorithm.anchors[0] if algorithm.anchors else ""
        spec.in_order.append(algorithm)
        for anchor in algorithm.anchors:
            spec.algorithms.setdefault(anchor, algorithm)
    return spec


def read_dfn(attrs: dict[str, str], text: str, open_tags: list[dict[str, str]], line: int) -> Dfn:
    """A <dfn>: its type and "for" come from its attributes or from the nearest element
    that declares dfn-type / dfn-for."""
    dfn_type = next((t for t in (*IDL_DFN_TYPES, "event", "interface") if t in attrs), "")
    for_ = attrs.get("for", "")
    for tag in reversed(open_tags):
        dfn_type = dfn_type or tag.get("dfn-type", "")
        if not for_ and "dfn-for" in tag:
            for_ = tag["dfn-for"]
    dfn_type = dfn_type or "dfn"
    texts = [t.strip().lower() for t in attrs.get("lt", attrs.get("data-lt", "")).split("|")]
    texts = [t for t in texts if t] or [plain(text).lower()]
    id = attrs.get("id") or dfn_id(dfn_type, for_, texts[0])
    return Dfn("#" + id, dfn_type, for_.lower(), texts, line)


def names(title: str, dfn: Dfn) -> bool:
    """Whether a heading's title links to the term *dfn* defines: "[=Complete a record=]",
    "{{BackgroundFetchManager/fetch()}}", "[=background fetch/Display=]"."""
    for term in TITLE_TERM.finditer(title):
        for_, text = (term[1], term[2]) if term[2] is not None else (term[3], term[4])
        if for_ and for_.lower() != dfn.for_:
            continue
        if dfn.type in ("method", "constructor") and "()" not in text:
            continue  # {{BackgroundFetchEvent}} is the interface, not its constructor
        text = text.lower().replace("()", "")
        if any(text == t.split("(")[0] for t in dfn.texts):
            return True
    return False


def idl_dfns(idl: str) -> Iterator[Dfn]:
    """What an IDL block defines: interfaces, dictionaries, enums and their members."""
    idl = re.sub(r"//[^\n]*", "", idl)
    block = re.compile(
        r"(\[[^\]]*\])?\s*(partial\s+)?(interface|dictionary|enum)\s+(\w+)[^{]*\{(.*?)\};", re.S
    )
    for match in block.finditer(idl):
        extended, partial, kind, name, body = match.groups()
        if not partial:
            yield Dfn("#" + dfn_id(kind, "", name), kind, "", [name.lower()], 0)
        if extended and "Constructor(" in extended:
            yield Dfn("#" + dfn_id("constructor", name, name), "constructor", name, [name], 0)
        if kind == "enum":
            for value in re.findall(r'"([^"]*)"', body):
                yield Dfn("#" + dfn_id("enum-value", name, value), "enum-value", name, [value], 0)
            continue
        for member in body.split(";"):
            member = re.sub(r"\[[^\]]*\]", "", member).strip()
            if not member:
                continue
            if member.startswith("constructor"):
                member_type, member_name = "constructor", name
            elif kind == "dictionary":
                member_type, member_name = "dict-member", member.split("=")[0].split()[-1]
            elif operation := re.search(r"(\w+)\s*\(", member):
                member_type, member_name = "method", operation[1]
            else:
                member_type, member_name = "attribute", member.split()[-1]
            yield Dfn(
                "#" + dfn_id(member_type, name, member_name), member_type, name, [member_name], 0
            )


@dataclass
class Level:
    """One open numbered list while reading an algorithm."""

    indent: int
    count: int = 0
    sublist: str = ""  # set where this list is a named sub-list's top level


def read_algorithm(lines: list[str], first: int, last: int) -> Algorithm:
    """The step tree of the <div algorithm> on lines *first*..*last* (1-based)."""
    algorithm = Algorithm(line=first)
    levels: list[Level] = []
    pending: tuple[str, int] | None = None  # a named sub-list announced, at this indent
    for number in range(first + 1, last):
        line = lines[number - 1]
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        item = ITEM.match(line)
        if not item:
            named = NAMED_LIST.match(line)
            while levels and levels[-1].indent >= indent:
                levels.pop()
            pending = None
            if named and levels:
                name = plain(f"[={named[1]}=]").lower()
                pending = (name, indent)
                within = ".".join(str(level.count) for level in main_levels(levels))
                algorithm.sublists[name] = SubList(name=name, within=within)
            continue
        while levels and levels[-1].indent > indent:
            levels.pop()
        if levels and levels[-1].indent == indent:
            levels[-1].count += 1
        else:
            sublist = ""
            if pending and indent > pending[1]:
                sublist = pending[0]
            levels.append(Level(indent, 1, sublist))
        pending = None
        owner = next((level.sublist for level in reversed(levels) if level.sublist), "")
        path = ".".join(str(level.count) for level in own_levels(levels))
        target: StepList = algorithm.sublists[owner] if owner else algorithm
        target.add(path, number, plain(item[2]))
    return algorithm


def own_levels(levels: list[Level]) -> list[Level]:
    """The levels numbering the innermost list: from the named sub-list's top, if any."""
    for position in range(len(levels) - 1, -1, -1):
        if levels[position].sublist:
            return levels[position:]
    return levels


def main_levels(levels: list[Level]) -> list[Level]:
    """The levels of the algorithm's own steps (below any named sub-list)."""
    for position, level in enumerate(levels):
        if level.sublist:
            return levels[:position]
    return levels


if __name__ == "__main__":  # python scripts/spec_text.py [edition]: what the parser sees
    import sys

    for edition in sys.argv[1:] or list(SPEC_FILES):
        parsed = load_spec(edition)
        print(f"== {edition}: {len(parsed.anchors)} anchors, {len(parsed.in_order)} algorithms")
        for algorithm in parsed.in_order:
            print(f"{algorithm.anchor}  {' '.join(algorithm.anchors[1:])}  ({algorithm.name})")
            for name, steps in algorithm.step_lists():
                label = f"  {name!r} in step {steps.within}:" if isinstance(steps, SubList) else " "
                if steps.steps:
                    print(label, " ".join(steps.steps))
