"""``python -m benchmarks`` runs every benchmark; ``python -m benchmarks coverage`` runs one; ``--json``."""

from __future__ import annotations

import argparse
import json
import sys

from . import BENCHMARKS, format_result, run


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("names", nargs="*", help=f"benchmarks to run (default: all of {', '.join(BENCHMARKS)})")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of plain lines")
    args = parser.parse_args(argv)
    names = args.names or list(BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s) {unknown}; available: {', '.join(BENCHMARKS)}")
    results = {}
    for name in names:
        res = run(name)
        results[name] = res
        if not args.json:
            print(format_result(res), flush=True)
    if args.json:
        out = {name: {"figures": {k: {"value": v, "unit": u} for k, (v, u) in res["figures"].items()},
                      "ratios": res["ratios"], "notes": res.get("notes", [])}
               for name, res in results.items()}
        json.dump(out, sys.stdout, indent=2)
        print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
