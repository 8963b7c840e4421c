"""Exit codes, one-line errors, and what happens when the reader of stdout goes away."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any, TextIO

from rich.console import Console

EXIT_OK = 0
EXIT_FAILED = 1  # the background fetch failed or was aborted
EXIT_USAGE = 2  # bad usage or input
EXIT_BROKEN_PIPE = 128 + 13  # stdout's reader went away (as if killed by SIGPIPE)


class UsageError(Exception):
    """Bad usage or input: the message names it; the command exits with status 2."""


def silence_stdout() -> None:
    """Point stdout's file descriptor at /dev/null, so that nothing written later (not
    even the interpreter's flush at exit) meets the broken pipe again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no real stdout (a test's StringIO): nothing to do
        pass


class Output:
    """Lines for one stream.  When its reader goes away (a broken pipe: ``| head``) it
    goes quiet and calls every ``on_broken`` callback once, instead of raising."""

    def __init__(self, stream: TextIO, *, quiet: bool = False) -> None:
        self.stream = stream
        self.quiet = quiet
        self.broken = False
        self.on_broken: list[Callable[[], None]] = []

    def line(self, text: str) -> None:
        """Write *text* and a newline, unless quiet."""
        if not self.quiet:
            self.write(text + "\n")

    def write(self, text: str) -> None:
        """Write *text* (even when quiet: what was asked for, such as --json's object)."""
        if self.broken:
            return
        try:
            self.stream.write(text)
            self.stream.flush()
        except BrokenPipeError:
            self.break_()

    def break_(self) -> None:
        if self.broken:
            return
        self.broken = True
        if self.stream is sys.stdout or self.stream is sys.__stdout__:
            silence_stdout()
        for callback in self.on_broken:
            callback()

    def console(self, **options: Any) -> PipeConsole:
        """A rich Console on this stream that shares its broken-pipe handling."""
        console = PipeConsole(file=self.stream, **options)
        console.on_broken.append(self.break_)
        return console


class PipeConsole(Console):
    """A rich Console that goes quiet when its reader goes away and calls ``on_broken``
    (rich's own reaction is ``SystemExit(1)``, which inside trio becomes a traceback)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.broken_pipe = False
        self.on_broken: list[Callable[[], None]] = []

    def on_broken_pipe(self) -> None:
        self.quiet = True
        if not self.broken_pipe:
            self.broken_pipe = True
            if self.file is sys.stdout or self.file is sys.__stdout__:
                silence_stdout()
            for callback in self.on_broken:
                callback()

    def print(self, *objects: Any, **kwargs: Any) -> None:
        try:
            super().print(*objects, **kwargs)
        except BrokenPipeError:  # a rich without on_broken_pipe()
            self.on_broken_pipe()


def only(kind: type[BaseException], error: BaseException) -> bool:
    """Whether *error* is a *kind*, or a group of nothing else."""
    if isinstance(error, BaseExceptionGroup):
        return all(only(kind, e) for e in error.exceptions)
    return isinstance(error, kind)


def only_broken_pipes(error: BaseException) -> bool:
    """Whether *error* is a BrokenPipeError, or a group of nothing else."""
    return only(BrokenPipeError, error)
