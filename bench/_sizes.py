"""How big each benchmark runs (not a benchmark itself: `make bench` skips _*.py).

Sizes given on the command line win; otherwise `CIS_BENCH_FULL=1` (`make bench CIS_BENCH_FULL=1`) asks for issue
16's full sizes, and without it `make bench` runs the quick ones, so the whole run fits in about twenty minutes on
a two-core machine.
"""

import os
import sys


def bench_sizes(quick: list[int], full: list[int]) -> list[int]:
    if len(sys.argv) > 1:
        return [int(arg) for arg in sys.argv[1:]]
    return full if os.environ.get("CIS_BENCH_FULL", "") not in ("", "0") else quick
