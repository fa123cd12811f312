"""Precision of the suite's blame: the whole suite against every seeded fault (or the named ones).

    python bench/precision.py [FAULT ...]

For each fault: the requirements the run reported failed (or warned), next to the ones the fault
declares; "precise" when they are the same and every other requirement passed or was blocked. Prints
"requirements failed per fault" and exits 1 when any run was not precise.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from conformance.simulator.faults import FAULTS
from tests.selftest.runs import whole_run


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("faults", nargs="*", help="fault names (default: all)")
    args = parser.parse_args()
    names = args.faults or sorted(FAULTS)
    imprecise = 0
    failed_counts: list[int] = []
    for name in names:
        with tempfile.TemporaryDirectory() as folder:
            result = whole_run(name, Path(folder))
        failed_counts.append(len(result.blamed))
        status = "precise" if result.precise else "IMPRECISE"
        imprecise += not result.precise
        print(f"{name:40} {status:9} failed {len(result.blamed):2} (declared {len(result.declared)}) "
              f"{result.verdict:15} {result.duration_s:5.1f} s"
              + (f"  missed {result.missed}" if result.missed else "")
              + (f"  also {result.wrongly}" if result.wrongly else ""), flush=True)
    print(f"requirements failed per fault: mean {statistics.mean(failed_counts):.2f}, "
          f"max {max(failed_counts)}; precise {len(names) - imprecise} of {len(names)}")
    return 1 if imprecise else 0


if __name__ == "__main__":
    sys.exit(main())
