"""pkglist's benchmarks: ``python -m benchmarks`` (``--help`` for options).

Each scenario measures pkglist and its baseline in the same run, against
emulators served on loopback by this process (the clients run in processes of
their own), repeats the measurement, and prints min / median / max and the
ratio of the medians beside the target. The exit status is 1 when a target is
missed. No timing is asserted anywhere in the tests: the machines are shared
and noisy, so ratios measured side by side are the only fair figures.
"""

from __future__ import annotations

import argparse
import sys

from . import network, scenarios
from ._measure import compile_bytecode
from .scenarios import Settings

SCENARIOS = (*scenarios.SCENARIOS, *network.SCENARIOS)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description="pkglist's benchmarks.")
    parser.add_argument("--runs", type=int, default=3, help="measurements per figure (default 3)")
    parser.add_argument("--only", type=int, action="append", help="run only scenario N (repeatable)")
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="tiny data sets, one run: checks the suite works, not the targets",
    )
    options = parser.parse_args(argv)
    settings = Settings(runs=1 if options.smoke else max(1, options.runs), smoke=options.smoke)
    compile_bytecode()
    missed = 0
    for scenario in SCENARIOS:
        if options.only and scenario.number not in options.only:
            continue
        print(f"\n== {scenario.number}. {scenario.title}", flush=True)
        outcome = scenario.run(settings)
        for line in outcome.lines:
            print(f"   {line}")
        for check in outcome.checks:
            verdict = "ok" if check.met else ("(smoke)" if settings.smoke else "MISSED")
            print(f"   {check.what:<60} {check.value:>8.2f}  target {check.target:<9} {verdict}", flush=True)
            missed += 0 if check.met or settings.smoke else 1
    print("\nall targets met" if not missed else f"\n{missed} target(s) missed")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
