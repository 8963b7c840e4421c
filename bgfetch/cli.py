"""The ``bgfetch`` command: ``demo``, ``fetch``, and ``list`` / ``show`` / ``abort``.

The subcommands live in :mod:`bgfetch.command`; this module parses the command line
and turns the outcome into an exit status.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path

from bgfetch import __version__
from bgfetch.command.output import (
    EXIT_BROKEN_PIPE,
    EXIT_USAGE,
    Output,
    UsageError,
    only,
    only_broken_pipes,
    silence_stdout,
)
from bgfetch.editions import EDITIONS

CA_CERTS_ENV = "BGFETCH_CA_CERTS"
"""PEM files (separated by the path separator, ":") trusted for https besides the system's."""

EXIT_SIGINT = 128 + 2

DESCRIPTION = """\
The Background Fetch spec, executable: a reference implementation and simulator.

commands:
  demo    three files background-fetched on the virtual network (simulated time)
  fetch   a background fetch of real URLs: a user agent of its own opens a window at
          the first URL's origin, registers a service worker that saves each body to
          --out, and waits until the fetch settled and the worker handled the event
  list    the background fetches kept in the store    (these three download nothing
  show    one of them                                   and run no service worker)
  abort   abort one, as its user would
  serve   serve a user agent over the Chrome DevTools Protocol while a scenario runs
  devtools  print the DevTools Background Fetch log kept in the store
"""

EXIT_STATUSES = """\
exit status: 0 success; 1 the background fetch failed or was aborted, or a service-worker
handler raised; 2 bad usage or input (the message names it); 130 / 143 stopped by
SIGINT (Ctrl-C) / SIGTERM; 141 stdout's reader went away (| head), quietly.
"""

FETCH_DESCRIPTION = """\
Background-fetch URL... on the real network (http and https; plain http to localhost
and 127.0.0.1 works), in a user agent of bgfetch's own: a window opens at the first
URL's origin, a service worker is registered at scope "/", and once it is ready
background_fetch.get(ID) is asked for a background fetch ID.  If there is none,
fetch(ID, URLs, download_total=N, title=T) starts one; otherwise the command goes on
with the existing one, or handles the completion event of one that settled before a
restart: the store (--store) keeps background fetches across runs, so the same command
run again after Ctrl-C, or a crash, resumes (complete records are not fetched again,
the others go on with a range request).  The command ends when the fetch settled and
its completion event was handled.  URLs of other origins than the first are fetched
as the page would, with CORS.

The built-in service worker, on backgroundfetchsuccess and backgroundfetchfail
(2017-10-12: backgroundfetched and backgroundfetchfail), streams each ok (2xx)
response's body to a file in --out, named after the URL's last path segment
(percent-decoded; "/", "\\", NUL and control characters become "_", leading dots are
dropped; "index" if nothing is left), numbered when taken: "ep (1).mp3".  Nothing is
written outside --out, and no existing file is replaced.

While it runs: on a terminal a live display, a bar per request and one for the whole
fetch (bytes, rate, time left); otherwise plain lines, one per 10% of the total (when
known: --download-total, or every response's Content-Length) and one per request as it
settles.  Ctrl-C or SIGTERM stops it within a second: the user agent closes, files
being written are removed, and the command exits 130 / 143.  The background fetch is
kept in the store, and the same command run again resumes it (with --no-store it is
gone).

Results follow the edition: a 404 makes the fetch fail (exit 1), with "bad-status" in
the current spec; in 2017-10-12 with backgroundfetchfail, the 404 not kept, and a body
cut mid-way fails the fetch instead of resuming.
"""

ABORT_DESCRIPTION = """\
Abort background fetch ID, as its user would in the browser's UI, and exit once the
store records it as settled (aborted).  Nothing is downloaded meanwhile.  The
background fetch's completion event, backgroundfetchabort, is delivered at the next
`bgfetch fetch` from the same origin, to the service worker that run registers (the
store keeps the background fetch, not its worker): the same `bgfetch fetch ... --id
ID` then reports the abort and exits 1, and the run after starts a new fetch.
Exit status: 0 aborted; 1 no such background fetch, or it had already settled; 2 a
store that cannot be opened.
"""

FETCH_EPILOG = f"""\
--json prints, on stdout, one object: id, edition, result ("success", "failure", or ""
if stopped), failure_reason (null in 2017-10-12, which has none), event (the completion
event's type), downloaded, download_total, uploaded, upload_total, and records, each
with url, status, size, sha256 and path (sha256 and path are null for a body the
built-in worker did not save, and with --worker); progress then goes to stderr.

{EXIT_STATUSES}
{CA_CERTS_ENV}=a.pem:b.pem adds CA certificates (PEM) trusted for https, as for tests.
"""


def _speed(text: str) -> float:
    from bgfetch.demo import check_speed

    try:
        value = check_speed(float(text))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--speed must be a positive, finite number of simulated seconds per real "
            f"second, not {text}"
        ) from None
    assert value is not None
    return value


def _byte_count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number of bytes: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"cannot be negative: {text}")
    return value


def _edition_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--edition",
        choices=sorted(EDITIONS),
        default="current",
        help="which spec edition to run (default: current)",
    )


def _store_option(parser: argparse.ArgumentParser, *, optional: bool = False) -> None:
    group = parser.add_mutually_exclusive_group() if optional else parser
    group.add_argument(
        "--store",
        metavar="DIR",
        help="where background fetches are kept across runs, so that a restarted "
        "command resumes (default: bgfetch/store in the user data directory, "
        "bgfetch/store-2017-10-12 for that edition: a store holds one edition's)",
    )
    if optional:
        group.add_argument(
            "--no-store",
            action="store_true",
            help="keep nothing across runs: the background fetch ends with the command",
        )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bgfetch",
        description=DESCRIPTION,
        epilog=EXIT_STATUSES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"bgfetch {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    demo = commands.add_parser(
        "demo",
        help="background-fetch three files on the virtual network, showing progress and "
        "the service worker's events",
    )
    _edition_option(demo)
    timing = demo.add_mutually_exclusive_group()
    timing.add_argument(
        "--speed",
        type=_speed,
        default=4.0,
        help="simulated seconds per real second (default: 4)",
    )
    timing.add_argument(
        "--instant", action="store_true", help="jump the simulated clock: finish at once"
    )

    fetch = commands.add_parser(
        "fetch",
        help="background-fetch real URLs, saving each body to a directory",
        description=FETCH_DESCRIPTION,
        epilog=FETCH_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    fetch.add_argument("urls", nargs="+", metavar="URL", help="what to fetch (http, https)")
    fetch.add_argument("--id", required=True, help="the background fetch's id")
    fetch.add_argument(
        "--download-total",
        type=_byte_count,
        default=0,
        metavar="N",
        help="the expected total of the response bodies, in bytes: the fetch fails "
        "(download-total-exceeded) past it (default: 0, unknown)",
    )
    fetch.add_argument("--title", help="the title the user agent's UI shows")
    fetch.add_argument(
        "--out",
        type=Path,
        default=None,
        metavar="DIR",
        help="where the built-in worker saves the bodies (default: the current "
        "directory; created if missing)",
    )
    _store_option(fetch, optional=True)
    _edition_option(fetch)
    fetch.add_argument(
        "--worker",
        metavar="MODULE:OBJECT",
        help="register this bgfetch.ServiceWorker (imported, from the current directory "
        "too) instead of the built-in one; it saves nothing unless it does",
    )
    fetch.add_argument(
        "--json", action="store_true", help="print one JSON object describing the outcome"
    )
    fetch.add_argument(
        "--quiet", action="store_true", help="print nothing but errors (and --json's object)"
    )

    listing = commands.add_parser("list", help="list the background fetches in the store")
    _store_option(listing)
    _edition_option(listing)
    listing.add_argument("--json", action="store_true", help="print a JSON array")
    show = commands.add_parser("show", help="show one background fetch in the store")
    show.add_argument("id", metavar="ID")
    _store_option(show)
    _edition_option(show)
    show.add_argument("--json", action="store_true", help="print a JSON object")
    abort = commands.add_parser(
        "abort",
        help="abort a background fetch in the store, as its user would",
        description=ABORT_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    abort.add_argument("id", metavar="ID")
    _store_option(abort)
    _edition_option(abort)
    from bgfetch.devtools.commands import add_parsers

    add_parsers(commands, _edition_option)
    from bgfetch.command import conformance

    conformance.add_arguments(
        commands.add_parser(
            "conformance",
            help="run the WPT conformance suite on bgfetch and Chromium, and report",
            description=conformance.DESCRIPTION,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
    )
    return parser


def _ca_certs() -> list[str]:
    """The PEM texts of the files BGFETCH_CA_CERTS names."""
    certs = []
    for path in filter(None, os.environ.get(CA_CERTS_ENV, "").split(os.pathsep)):
        try:
            certs.append(Path(path).read_text())
        except OSError as error:
            raise UsageError(f"{CA_CERTS_ENV}: cannot read {path}: {error.strerror}") from None
    return certs


def _fetch(args: argparse.Namespace) -> int:
    import trio

    from bgfetch.command.fetch import FetchOptions, run_fetch
    from bgfetch.command.stored import resolve_store

    options = FetchOptions(
        urls=args.urls,
        id=args.id,
        download_total=args.download_total,
        title=args.title,
        out=args.out if args.out is not None else Path.cwd(),
        store=None if args.no_store else resolve_store(args.store, args.edition),
        edition=args.edition,
        worker=args.worker,
        json=args.json,
        quiet=args.quiet,
        ca_certs=_ca_certs(),
    )
    status: int = trio.run(lambda: run_fetch(options, handle_signals=True))
    return status


def _stored(args: argparse.Namespace) -> int:
    import trio

    from bgfetch.command.stored import resolve_store, run_stored

    store = resolve_store(args.store, args.edition)
    out, err = Output(sys.stdout), Output(sys.stderr)
    status: int = trio.run(
        lambda: run_stored(
            args.command,
            store,
            out,
            err,
            id=getattr(args, "id", None),
            edition=args.edition,
            as_json=getattr(args, "json", False),
        )
    )
    return EXIT_BROKEN_PIPE if out.broken else status


def _devtools(args: argparse.Namespace) -> int:
    from bgfetch.devtools.commands import run

    return run(args)


def _conformance(args: argparse.Namespace) -> int:
    from bgfetch.command import conformance

    try:
        return conformance.run(args)
    except FileNotFoundError as error:
        raise UsageError(str(error)) from None


def _demo(args: argparse.Namespace) -> int:
    from bgfetch import demo

    return demo.main(args.edition, None if args.instant else args.speed)


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "demo": _demo,
    "fetch": _fetch,
    "list": _stored,
    "show": _stored,
    "abort": _stored,
    "serve": _devtools,
    "devtools": _devtools,
    "conformance": _conformance,
}


def main(argv: list[str] | None = None) -> int:
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        command = COMMANDS.get(args.command)
        if command is None:
            parser.print_help()
            return EXIT_USAGE
        try:
            return command(args)
        except UsageError as error:
            print(f"bgfetch {args.command}: {error}", file=sys.stderr)
            return EXIT_USAGE
    except KeyboardInterrupt:  # Ctrl-C before the command could listen for it
        return EXIT_SIGINT
    except BaseException as error:
        if only(KeyboardInterrupt, error):  # the same, inside trio
            return EXIT_SIGINT
        if not only_broken_pipes(error):
            raise
        silence_stdout()
        return EXIT_BROKEN_PIPE


if __name__ == "__main__":
    sys.exit(main())
