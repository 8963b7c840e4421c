"""The ``bgfetch`` command."""

from __future__ import annotations

import argparse
import sys

from bgfetch import __version__
from bgfetch.editions import EDITIONS


def _speed(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"--speed must be positive, not {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bgfetch",
        description="The Background Fetch spec, executable: a reference implementation "
        "and simulator.",
    )
    parser.add_argument("--version", action="version", version=f"bgfetch {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = commands.add_parser(
        "demo",
        help="background-fetch three files on the virtual network, showing progress and "
        "the service worker's events",
    )
    demo.add_argument(
        "--edition",
        choices=sorted(EDITIONS),
        default="current",
        help="which spec edition to run (default: current)",
    )
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
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "demo":
        from bgfetch import demo

        return demo.main(args.edition, None if args.instant else args.speed)
    parser.print_help()
    return 2


if __name__ == "__main__":
    sys.exit(main())
