"""`make bench`: run every benchmark and write docs/BENCHMARKS.md with what they printed.

Each benchmark measures its own floor in the same run and prints the figures, the ratio and the
target; this runner adds the machine (cores, Python, SQLite, PostgreSQL) and keeps the output.

    python bench/run.py [--quick | --smoke] [--only NAME ...]

`--smoke` runs every benchmark at its smoke sizes (bench/measure.py) to see that each still runs:
its figures mean nothing, so it writes no file unless --output is given.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RECORDED = "## Recorded runs"
METHOD = """How they measure (bench/measure.py): every figure is the median of 3 windows of 2 s or more,
the variants of a benchmark taking turns (A B C, B C A, C A B) so that a busy spell slows them
all; the spread (slowest-fastest window) and the CPU per operation of the process doing the work
are printed beside each rate. Floors do what a minimal correct implementation must do and run in
the same process, on the same database, in the same run. Every target is one line
`target <what>: met|NOT met (<figure>)`, collected again at the end. The machine is shared: read
the ratios, and the load average each benchmark prints."""
BENCHES = ("engine", "decisions", "slack_ack", "release", "history", "memory", "insights", "crm", "delegations")


def postgres_version() -> str:
    try:
        out = subprocess.run(
            ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "test", "-tAc", "show server_version"],
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.TimeoutExpired):
        return "not reachable"
    return out.stdout.strip() or "not reachable"


def machine() -> list[str]:
    return [
        f"- cores: {os.cpu_count()}",
        f"- Python: {platform.python_version()} ({platform.machine()}, {platform.system()})",
        f"- SQLite: {sqlite3.sqlite_version}",
        f"- PostgreSQL: {postgres_version()}",
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller runs (the default of make bench)")
    parser.add_argument("--only", nargs="*", choices=BENCHES, help="run only these")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, to see that every benchmark still runs")
    parser.add_argument("--output", help="where to write the report (default docs/BENCHMARKS.md; none with --smoke)")
    args = parser.parse_args()
    if args.output is None and not args.smoke:
        args.output = str(ROOT / "docs" / "BENCHMARKS.md")
    chosen = args.only or list(BENCHES)
    sections = []
    failed = 0
    for name in chosen:
        script = ROOT / "bench" / f"{name}.py"
        if not script.exists():
            sections.append(f"## {name}\n\n(not present in this checkout)\n")
            continue
        command = [sys.executable, str(script)] + (["--smoke"] if args.smoke else ["--quick"] if args.quick else [])
        print(f"[{chosen.index(name) + 1}/{len(chosen)}] {name}: {' '.join(command[1:])}", flush=True)
        started = time.monotonic()
        run = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
        took = time.monotonic() - started
        output = (run.stdout + ("\n" + run.stderr if run.returncode else "")).strip()
        print(output + "\n", flush=True)
        status = "" if run.returncode == 0 else f" (exit {run.returncode})"
        failed += run.returncode != 0
        sections.append(
            f"## {name}{status}\n\n`{' '.join(['python', *command[1:]])}` · {took:.1f} s\n\n```\n{output}\n```\n"
        )
    mode = "smoke" if args.smoke else "quick" if args.quick else "full"
    verdicts = [
        line.strip() for section in sections for line in section.splitlines() if line.strip().startswith("target ")
    ]
    if verdicts:
        sections.append("## Every target\n\n```\n" + "\n".join(verdicts) + "\n```\n")
        print("\n".join(verdicts))
    text = "\n".join(
        [
            "# Benchmarks",
            "",
            f"Written by `make bench` ({mode} mode) on {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC. Each benchmark "
            "measures its floor in the same run; nothing in the test suite asserts on time.",
            "",
            METHOD,
            "",
            "## Machine",
            "",
            *machine(),
            "",
            *sections,
        ]
    )
    if args.output is None:
        return 1 if failed else 0
    output = Path(args.output)
    old = output.read_text(encoding="utf-8") if output.exists() else ""
    if RECORDED in old:  # runs recorded by hand (the full memory run) outlive the regeneration
        text += "\n\n" + old[old.index(RECORDED) :].strip()
    output.write_text(text + "\n", encoding="utf-8")
    print(f"wrote {args.output}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
