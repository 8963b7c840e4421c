"""`make bench`: bgfetch against curl, aria2c, httpx, aiohttp and a trio+h11 floor.

    .venv/bin/python bench/run.py [--rounds N] [--quick] [--only CASE,...] [--data DIR]

Every figure is the median of N (>= 5) rounds after a warm-up round; in each round
every competitor of a case runs once, in an order that rotates from round to round,
against the same nginx on loopback (sendfile, keep-alive).  Each run is a child
process: its peak RSS is the kernel's (wait4's rusage).  Python clients report their
own seconds (from the first request to the last body byte, interpreter start left
out); curl and aria2c are timed as whole processes, as is `bgfetch fetch`.  Ratios are
bgfetch's time over the competitor's, pair by pair within a round, then the median: on
a shared machine absolute numbers drift, the ratios are the result.  The bgfetch case
furthest from its goal is then run once under cProfile, and its summary written too.

Writes bench/results.md (the table) and bench/results.json (every run) unless --out.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import pstats
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from server import CLIENT_CPUS, SERVER_CPUS, Nginx, ensure_installed, make_files, pin  # noqa: E402

PYTHON = sys.executable
CLIENTS = HERE / "clients"
MIB = 1 << 20
# Children run as a user's commands do: Python writes and reuses its bytecode caches.
CHILD_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


@dataclass
class Competitor:
    name: str
    argv: list[str]
    timed: str = "in-client"  # or "process": the whole process's wall time
    setup: list[Path] = field(default_factory=list)  # emptied before each run


@dataclass
class Case:
    key: str
    title: str
    competitors: list[Competitor]
    size: int  # bytes one run downloads
    goals: dict[str, float] = field(default_factory=dict)  # name -> max time ratio
    rss_goal_mib: float | None = None
    note: str = ""
    runs: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


def run_child(competitor: Competitor) -> dict[str, Any]:
    """Run one competitor as a child process; its seconds, wall time and peak RSS."""
    for path in competitor.setup:
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir(parents=True)
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        process = subprocess.Popen(
            competitor.argv,
            stdout=subprocess.PIPE,
            stderr=err,
            env=CHILD_ENV,
            preexec_fn=pin(CLIENT_CPUS),
        )
        assert process.stdout is not None
        out = process.stdout.read()
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            err.seek(0)
            raise SystemExit(
                f"bench: {competitor.name} failed ({process.returncode}): "
                f"{' '.join(competitor.argv)[:300]}\n{err.read().decode(errors='replace')[-3000:]}"
            )
    result: dict[str, Any] = {"wall": wall, "peak_rss_mib": usage.ru_maxrss / 1024}
    if competitor.timed == "in-client":
        result.update(json.loads(out.decode().strip().splitlines()[-1]))
    else:
        result["seconds"] = wall
    return result


def run_case(case: Case, rounds: int) -> None:
    print(f"bench: {case.title}", flush=True)
    names = [c.name for c in case.competitors]
    case.runs = {name: [] for name in names}
    for round in range(rounds + 1):  # round 0 is the warm-up
        shift = round % len(case.competitors)
        order = case.competitors[shift:] + case.competitors[:shift]
        for competitor in order:
            result = run_child(competitor)
            if round:
                case.runs[competitor.name].append(result)
        if round:
            line = ", ".join(f"{n} {case.runs[n][-1]['seconds']:.3f}s" for n in names)
            print(f"  round {round}: {line}", flush=True)


def median(runs: list[dict[str, Any]], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def ratio(case: Case, other: str, reference: str = "bgfetch") -> float:
    """Median over rounds of reference's seconds / other's, pair by pair."""
    pairs = zip(case.runs[reference], case.runs[other], strict=True)
    return statistics.median(a["seconds"] / b["seconds"] for a, b in pairs)


def goal_misses(case: Case) -> list[tuple[str, float, float]]:
    """(competitor, ratio, target) for each goal, worst first."""
    misses = [(name, ratio(case, name), target) for name, target in case.goals.items()]
    return sorted(misses, key=lambda m: m[1] / m[2], reverse=True)


# -- the cases ----------------------------------------------------------------


def cases(base: str, data: Path, options: argparse.Namespace) -> list[Case]:
    big_url = f"{base}/big.bin"
    small_urls = [f"{base}/small/f{i}" for i in range(options.small)]
    mid_urls = [f"{base}/mid/f{i}" for i in range(5)]
    lists = data / "lists"
    lists.mkdir(exist_ok=True)
    curl_config = lists / "small.curl"
    curl_config.write_text("".join(f'url = "{u}"\noutput = "/dev/null"\n' for u in small_urls))
    aria_list = lists / "small.aria2"
    aria_list.write_text("".join(f"{u}\n" for u in small_urls))
    out = data / "out"
    aria2c = ensure_installed("aria2c", "aria2")
    bgfetch_cli = [PYTHON, "-m", "bgfetch", "fetch", "--quiet", "--id", "bench"]
    big, small_total = options.big, options.small * 10 * 1024
    all_cases = [
        Case(
            "big-memory",
            f"one {big // MIB} MiB file, in-memory user agent, body iterated",
            [
                Competitor("bgfetch", [PYTHON, str(CLIENTS / "bgfetch_client.py"), big_url]),
                Competitor("curl", ["curl", "-sf", "-o", "/dev/null", big_url], "process"),
                Competitor("httpx", [PYTHON, str(CLIENTS / "httpx_client.py"), big_url]),
                Competitor("aiohttp", [PYTHON, str(CLIENTS / "aiohttp_client.py"), big_url]),
                Competitor("floor", [PYTHON, str(CLIENTS / "floor.py"), big_url]),
            ],
            big,
            goals={"curl": 2.0, "httpx": 1.0, "aiohttp": 1.0, "floor": 1.2},
        ),
        Case(
            "big-bytes",
            "the same, read with response.bytes() (peak RSS: copies of the body)",
            [
                Competitor(
                    "bgfetch", [PYTHON, str(CLIENTS / "bgfetch_client.py"), big_url, "--keep"]
                ),
                Competitor("floor", [PYTHON, str(CLIENTS / "floor.py"), big_url]),
            ],
            big,
        ),
        Case(
            "big-disk",
            f"one {big // MIB} MiB file to disk: `bgfetch fetch` (stored user agent)",
            [
                Competitor(
                    "bgfetch",
                    [*bgfetch_cli, "--store", str(out / "store"), "--out", str(out / "b"), big_url],
                    "process",
                    [out / "store", out / "b"],
                ),
                Competitor(
                    "curl",
                    ["curl", "-sf", "-o", str(out / "c" / "big.bin"), big_url],
                    "process",
                    [out / "c"],
                ),
                Competitor(
                    "aria2c",
                    [aria2c, "-q", "--file-allocation=none", "-d", str(out / "a"), big_url],
                    "process",
                    [out / "a"],
                ),
            ],
            big,
            goals={"curl": 1.25},
            rss_goal_mib=100,
            note="whole processes, interpreter start included",
        ),
        Case(
            "small-files",
            f"{options.small} files of 10 KiB in one background fetch",
            [
                Competitor("bgfetch", [PYTHON, str(CLIENTS / "bgfetch_client.py"), *small_urls]),
                Competitor(
                    "curl",
                    ["curl", "-sf", "--parallel", "--parallel-max", "6", "-K", str(curl_config)],
                    "process",
                ),
                Competitor(
                    "aria2c",
                    [
                        aria2c,
                        "-q",
                        "-j",
                        "16",
                        "--file-allocation=none",
                        "--allow-overwrite=true",
                        "-d",
                        str(out / "s"),
                        "-i",
                        str(aria_list),
                    ],
                    "process",
                    [out / "s"],
                ),
                Competitor("aiohttp", [PYTHON, str(CLIENTS / "aiohttp_client.py"), *small_urls]),
                Competitor("httpx", [PYTHON, str(CLIENTS / "httpx_client.py"), *small_urls]),
                Competitor("floor", [PYTHON, str(CLIENTS / "floor.py"), *small_urls]),
            ],
            small_total,
            goals={"aiohttp": 1.0, "aria2c": 1.0, "floor": 1.5},
            note="6 connections each (aria2c: -j 16); curl and aria2c whole processes",
        ),
    ]
    many = str(CLIENTS / "bgfetch_many.py")
    for network in ("real", "virtual"):
        competitors = []
        for n in options.concurrency:
            where = ["--urls", *mid_urls] if network == "real" else ["--virtual", "102400,5"]
            competitors.append(
                Competitor(f"{n} fetches", [PYTHON, many, "--fetches", str(n), *where])
            )
        all_cases.append(
            Case(
                f"concurrent-{network}",
                f"1 to {options.concurrency[-1]} concurrent background fetches of 5 x 100 KiB, "
                f"{network} network",
                competitors,
                5 * 100 * 1024,
                note="per fetch: seconds / fetches; first: the first success event handled",
            )
        )
    all_cases.append(
        Case(
            "virtual",
            "the virtual network under MockClock (no simulated latency)",
            [
                Competitor(f"{big // MIB} MiB", [PYTHON, many, "--virtual", f"{big},1"]),
                Competitor(
                    f"{options.small} x 10 KiB",
                    [PYTHON, many, "--virtual", f"10240,{options.small}"],
                ),
            ],
            big,
        )
    )
    return [c for c in all_cases if not options.only or c.key in options.only]


# -- the report ---------------------------------------------------------------


def profile(case: Case, data: Path, top: int = 18) -> str:
    """Run the case's bgfetch once under cProfile: the summary, as Markdown."""
    competitor = case.competitors[0]
    argv = competitor.argv
    target = argv[2:] if argv[1] == "-m" else argv[1:]
    stats_file = data / "profile.stats"
    module = ["-m", target[0]] if argv[1] == "-m" else [target[0]]
    rest = target[1:]
    profiled = Competitor(
        competitor.name,
        [PYTHON, "-m", "cProfile", "-o", str(stats_file), *module, *rest],
        "process",
        competitor.setup,
    )
    run_child(profiled)
    stats = pstats.Stats(str(stats_file))
    total = stats.total_tt  # type: ignore[attr-defined]
    rows = sorted(stats.stats.items(), key=lambda item: item[1][2], reverse=True)  # type: ignore[attr-defined]
    lines = [
        f"`{case.key}`, bgfetch, one run under cProfile ({total:.2f} s profiled; "
        "cProfile slows Python calls, so shares matter, not seconds).",
        "",
        "| own time | share | calls | function |",
        "|---:|---:|---:|---|",
    ]
    for (path, line, name), (_, calls, own, _cum, _) in rows[:top]:
        short = _short(path)
        lines.append(f"| {own:.3f} s | {own / total:.0%} | {calls} | `{short}:{line}({name})` |")
    cumulative = sorted(
        (item for item in stats.stats.items() if "/bgfetch/" in item[0][0]),  # type: ignore[attr-defined]
        key=lambda item: item[1][3],
        reverse=True,
    )
    lines += [
        "",
        "bgfetch's functions by time including callees:",
        "",
        "| with callees | share | calls | function |",
        "|---:|---:|---:|---|",
    ]
    for (path, line, name), (_, calls, _own, cum, _) in cumulative[:top]:
        lines.append(
            f"| {cum:.3f} s | {cum / total:.0%} | {calls} | `{_short(path)}:{line}({name})` |"
        )
    return "\n".join(lines)


def _short(path: str) -> str:
    """*path* from its package on (bgfetch/..., h11/..., trio/...)."""
    if "/bgfetch/" in path:
        return "bgfetch/" + path.rsplit("/bgfetch/", 1)[1]
    for marker in ("/site-packages/", "/lib/python"):
        if marker in path:
            return path.split(marker, 1)[1]
    return path


def table(case: Case) -> list[str]:
    reference = case.competitors[0].name
    comparing = reference == "bgfetch"
    header = "| competitor | seconds | MiB/s | peak RSS MiB |"
    rule = "|---|---:|---:|---:|"
    if comparing:
        header += " bgfetch / it (time) |"
        rule += "---:|"
    if case.key.startswith("concurrent"):
        header, rule = (
            "| fetches | seconds | per fetch ms | first event s | peak RSS MiB |",
            "|---|---:|---:|---:|---:|",
        )
    lines = [f"### {case.title}", ""]
    if case.note:
        lines += [f"({case.note})", ""]
    lines += [header, rule]
    for competitor in case.competitors:
        runs = case.runs[competitor.name]
        seconds, rss = median(runs, "seconds"), median(runs, "peak_rss_mib")
        if case.key.startswith("concurrent"):
            n = int(competitor.name.split()[0])
            first = median(runs, "first_event_seconds")
            lines.append(
                f"| {n} | {seconds:.3f} | {seconds / n * 1000:.1f} | {first:.3f} | {rss:.0f} |"
            )
            continue
        size = runs[0].get("bytes", case.size) or case.size
        row = f"| {competitor.name} | {seconds:.3f} | {size / MIB / seconds:.0f} | {rss:.0f} |"
        if comparing:
            versus = "–" if competitor.name == reference else f"{ratio(case, competitor.name):.2f}"
            row += f" {versus} |"
        lines.append(row)
    lines.append("")
    for name, value, target in goal_misses(case):
        verdict = "met" if value <= target else f"missed by {value / target:.2f}x"
        lines.append(f"- goal: bgfetch / {name} <= {target:g} (time): {value:.2f}, {verdict}")
    if case.rss_goal_mib is not None:
        rss = median(case.runs[reference], "peak_rss_mib")
        verdict = "met" if rss < case.rss_goal_mib else f"missed by {rss / case.rss_goal_mib:.2f}x"
        lines.append(f"- goal: peak RSS < {case.rss_goal_mib:g} MiB: {rss:.0f} MiB, {verdict}")
    return lines + [""]


def write_report(all_cases: list[Case], options: argparse.Namespace, profiled: str) -> None:
    commit = subprocess.run(
        ["git", "-C", str(HERE), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    lines = [
        "# bgfetch bench",
        "",
        f"`make bench` at {commit or 'an unknown commit'}, {when}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, nginx on loopback on CPU "
        f"{','.join(map(str, SERVER_CPUS))}, every client on CPU {','.join(map(str, CLIENT_CPUS))}"
        f"{' (--quick: 64 MiB, 200 small files, up to 100 fetches)' if options.quick else ''}. "
        f"Medians of {options.rounds} interleaved rounds after a warm-up; ratios are "
        "bgfetch's time over the competitor's, pair by pair within a round (below 1: bgfetch "
        "is faster). Absolute numbers are noisy on a shared machine; the ratios are the "
        "result. Every bgfetch client runs with a progress listener. How: bench/run.py.",
        "",
    ]
    for case in all_cases:
        lines += table(case)
    analysis = HERE / "analysis.md"  # by hand: why the misses, and the next fixes
    if analysis.exists():
        lines += [analysis.read_text().strip(), ""]
    if profiled:
        lines += ["## Profile of the case furthest from its goal", "", profiled, ""]
    (options.out.with_suffix(".md")).write_text("\n".join(lines))
    raw = {
        "commit": commit,
        "rounds": options.rounds,
        "cases": {
            case.key: {
                "title": case.title,
                "bytes": case.size,
                "goals": case.goals,
                "runs": case.runs,
                "medians": {n: median(r, "seconds") for n, r in case.runs.items()},
                "ratios": {
                    c.name: ratio(case, c.name)
                    for c in case.competitors[1:]
                    if case.competitors[0].name == "bgfetch"
                },
            }
            for case in all_cases
        },
    }
    options.out.with_suffix(".json").write_text(json.dumps(raw, indent=1) + "\n")
    print(f"bench: wrote {options.out.with_suffix('.md')} and .json", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="64 MiB, 200 files, up to 100 fetches")
    parser.add_argument("--only", type=lambda s: s.split(","), default=[])
    parser.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "bgfetch-bench")
    parser.add_argument("--out", type=Path, default=HERE / "results")
    parser.add_argument("--no-profile", action="store_true")
    options = parser.parse_args()
    if options.rounds < 5:
        parser.error("--rounds: at least 5, or medians mean little")
    options.big = 64 * MIB if options.quick else 1024 * MIB
    options.small = 200 if options.quick else 1000
    options.concurrency = [1, 10, 100] if options.quick else [1, 10, 100, 1000]
    options.data.mkdir(parents=True, exist_ok=True)
    make_files(options.data / "www", options.big, options.small)
    ensure_installed("curl", "curl")
    with Nginx(options.data) as base:
        all_cases = cases(base, options.data, options)
        for case in all_cases:
            run_case(case, options.rounds)
        profiled = ""
        candidates = [c for c in all_cases if c.goals]
        if candidates and not options.no_profile:
            worst = max(candidates, key=lambda c: max(v / t for _, v, t in goal_misses(c)))
            print(f"bench: profiling {worst.key}", flush=True)
            profiled = profile(worst, options.data)
    write_report(all_cases, options, profiled)


if __name__ == "__main__":
    main()
