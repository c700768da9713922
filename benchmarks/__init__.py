"""Benchmarks: ``python -m benchmarks [name ...] [--json]`` prints figures and ratios against baselines.

Each benchmark module has ``run() -> dict`` returning ``{"name", "figures", "ratio", "notes"}``:
``figures`` maps a figure name to ``(value, unit)``; ``ratio`` is ``(name, value)`` (baseline time /
workbench time, so > 1 means the workbench route is faster). Timings are wall-clock on whatever
machine runs them (the reference machine has 2 cores); nothing here is asserted in the test suite.
"""

from __future__ import annotations

import importlib
import time

#: benchmark name -> module
BENCHMARKS = {
    "coverage": "benchmarks.bench_coverage",
    "paths": "benchmarks.bench_paths",
    "graph_coverage": "benchmarks.bench_graph_coverage",
    "routing": "benchmarks.bench_routing",
    "optimize": "benchmarks.bench_optimize",
    "dispatch": "benchmarks.bench_dispatch",
    "ops": "benchmarks.bench_ops",
    "embodied": "benchmarks.bench_embodied",
}


def best_of(fn, repeat: int = 3):
    """Run ``fn()`` ``repeat`` times; return (best wall time [s], last result)."""
    best, result = float("inf"), None
    for _ in range(max(1, repeat)):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def run(name: str) -> dict:
    """Run one benchmark by name and return its result dict."""
    if name not in BENCHMARKS:
        raise KeyError(f"unknown benchmark {name!r}; available: {', '.join(BENCHMARKS)}")
    return importlib.import_module(BENCHMARKS[name]).run()


def format_result(res: dict) -> str:
    """Plain lines ``name.figure: value unit``, then the ratio line and any notes."""
    lines = []
    for key, (value, unit) in res["figures"].items():
        text = f"{value:.4g}" if isinstance(value, float) else str(value)
        lines.append(f"{res['name']}.{key}: {text} {unit}".rstrip())
    for key, value in res["ratios"].items():
        lines.append(f"{res['name']}.ratio.{key}: {value:.3g} x")
    lines.extend(f"# {note}" for note in res.get("notes", []))
    return "\n".join(lines)


def print_result(res: dict, as_json: bool = False) -> None:
    """Print one benchmark's result: :func:`format_result` lines, or its figures as JSON."""
    if as_json:
        import json
        import sys

        json.dump({k: {"value": v, "unit": u} for k, (v, u) in res["figures"].items()}, sys.stdout, indent=2)
        print()
    else:
        print(format_result(res))
