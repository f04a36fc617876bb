#!/usr/bin/env python3
"""The reliability suite: fault harness, slowhttptest, load and lifecycle, scale and security
checks, each against a real attache process on 127.0.0.1. Prints one line per check and a final
"N passed, N failed"; exits 1 when anything failed.

    python3 Tests/Reliability/run.py --binary .build/debug/attache [--only faults,scale]
"""

import argparse
import os
import sys
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import faults  # noqa: E402
import lifecycle  # noqa: E402
import scale  # noqa: E402
import security  # noqa: E402
import slowhttp  # noqa: E402
from harness import Ledger  # noqa: E402

SUITES = {
    "faults": faults.run,
    "slowhttptest": slowhttp.run,
    "lifecycle": lifecycle.run,
    "scale": scale.run,
    "security": security.run,
}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", required=True)
    parser.add_argument("--rules", default=os.path.join(os.path.dirname(__file__), "..", "..", "rules"))
    parser.add_argument("--only", default=",".join(SUITES))
    arguments = parser.parse_args()
    binary = os.path.abspath(arguments.binary)
    rules = os.path.abspath(arguments.rules)
    ledger = Ledger()
    for name in arguments.only.split(","):
        print(f"\n-- {name}", flush=True)
        try:
            SUITES[name](ledger, binary, rules)
        except Exception:  # a broken suite is a failure, and the others still run
            traceback.print_exc()
            ledger.check(f"{name}: the suite ran to the end", False)
    print(f"\n{ledger.passed} passed, {ledger.failed} failed")
    for name in ledger.failures:
        print(f"  failed: {name}")
    return 0 if ledger.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
