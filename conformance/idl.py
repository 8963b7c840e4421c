"""The Background Fetch IDL of each edition, read from the pinned spec text (specs/), for
the idlharness port: which interfaces a global exposes, and their members."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import attrs

from .interface import Edition

SPECS = Path(__file__).resolve().parent.parent / "specs"
_BLOCK = re.compile(r'<script type="idl">(.*?)</script>', re.S)
_INTERFACE = re.compile(
    r"(?:\[(?P<ext>[^\]]*)\]\s*)?(?P<partial>partial\s+)?interface\s+(?P<name>\w+)"
    r"(?:\s*:\s*\w+)?\s*\{(?P<body>.*?)\};",
    re.S,
)


@attrs.frozen
class Member:
    interface: str
    kind: str  # "attribute" or "operation"
    name: str
    arguments: tuple[str, ...] = ()  # an operation's argument types, "optional X" for optional

    @property
    def subtest(self) -> str:
        """idlharness's name for the member's subtest."""
        if self.kind == "attribute":
            return f"{self.interface} interface: attribute {self.name}"
        return f"{self.interface} interface: operation {self.name}({', '.join(self.arguments)})"


@attrs.frozen
class Interface:
    name: str
    exposed: tuple[str, ...]  # (), for a partial interface: its base's exposure
    partial: bool
    members: tuple[Member, ...]


def _arguments(text: str) -> tuple[str, ...]:
    parts, depth, current = [], 0, ""
    for char in text:
        depth += char in "(<" and 1 or 0
        depth -= char in ")>" and 1 or 0
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    if current.strip():
        parts.append(current)
    types = []
    for part in parts:
        part = part.split("=", 1)[0].strip()
        types.append(part.rsplit(None, 1)[0])  # drop the argument's name
    return tuple(types)


def _members(interface: str, body: str) -> tuple[Member, ...]:
    members = []
    for line in body.split(";"):
        line = re.sub(r"//[^\n]*", "", line).strip()
        if not line or line.startswith("constructor"):
            continue
        if re.search(r"\battribute\b", line):
            members.append(Member(interface, "attribute", line.split()[-1]))
            continue
        found = re.search(r"(\w+)\s*\((.*)\)\s*$", line, re.S)
        if found:
            members.append(Member(interface, "operation", found[1], _arguments(found[2])))
    return tuple(members)


@cache
def interfaces(edition: Edition) -> tuple[Interface, ...]:
    text = (SPECS / f"background-fetch-{edition}.bs").read_text()
    found = []
    for block in _BLOCK.findall(text):
        for match in _INTERFACE.finditer(block):
            exposed = re.search(r"Exposed=\(?([\w,]+)\)?", match["ext"] or "")
            found.append(
                Interface(
                    match["name"],
                    tuple(exposed[1].split(",")) if exposed else (),
                    bool(match["partial"]),
                    _members(match["name"], match["body"]),
                )
            )
    return tuple(found)


PARTIAL_EXPOSURE = {
    "ServiceWorkerGlobalScope": ("ServiceWorker",),
    "ServiceWorkerRegistration": ("Window", "Worker"),
}


def exposed_in(edition: Edition, global_: str) -> tuple[Interface, ...]:
    """The edition's interfaces exposed in *global_* ("Window" or "ServiceWorker")."""
    within = {"Window": {"Window"}, "ServiceWorker": {"ServiceWorker", "Worker"}}[global_]
    return tuple(
        i
        for i in interfaces(edition)
        if within & set(i.exposed or PARTIAL_EXPOSURE.get(i.name, ()))
    )
