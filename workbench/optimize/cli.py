"""``workbench optimize STUDY.yaml`` and ``workbench sweep SWEEP.yaml``.

Where evaluation runs: ``--scheduler ADDR`` connects to a running scheduler; otherwise
``$WORKBENCH_SCHEDULER`` / ``$DASK_SCHEDULER_ADDRESS`` if set; otherwise a LocalCluster of
``--workers N`` processes (default: one per core). ``--workers 0`` evaluates in this process
without Dask. Results are the same in every case for a given seed.

Exit status: 0 on success, 2 on bad input (a study or sweep file with problems: every problem is
printed with file, line and field), 130 when interrupted (a study keeps its checkpoint: rerun
with ``--resume``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..errors import StudyError

__all__ = ["configure_optimize", "configure_sweep", "main", "run_optimize", "run_sweep"]


def _client_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scheduler", metavar="ADDR", default=None,
                        help="Dask scheduler address (tcp://host:8786); default $WORKBENCH_SCHEDULER, "
                             "$DASK_SCHEDULER_ADDRESS or a local cluster")
    parser.add_argument("--workers", type=int, metavar="N", default=None,
                        help="workers of the local cluster (default: one per core); 0 = no Dask, run in process")
    parser.add_argument("--connect-timeout", type=float, metavar="S", default=None,
                        help="seconds to wait for a scheduler given by address or environment variable [5]")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def _client(args):
    """``(client, owned)``: a scheduler address (argument or environment) is connected here, with the
    connect timeout; otherwise ``"serial"`` or None (a local cluster, made by the runner)."""
    from ..distributed import get_client, scheduler_from_env

    if args.workers is not None and args.workers < 0:
        raise StudyError(f"--workers must be >= 0, got {args.workers}")
    if args.connect_timeout is not None and not args.connect_timeout > 0:
        raise StudyError(f"--connect-timeout must be > 0 s, got {args.connect_timeout}")
    if args.scheduler or (args.workers != 0 and scheduler_from_env() is not None):
        return get_client(args.scheduler or None, connect_timeout=args.connect_timeout)
    if args.workers == 0:
        return "serial", False
    return None, False


def _refuse_overwrite(out: Path, force: bool) -> None:
    if out.exists() and not force:
        raise StudyError(f"{out} exists; pass --force to overwrite it (or --resume to continue a study)")


def configure_optimize(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``workbench optimize``."""
    parser.add_argument("study", help="study file (YAML), e.g. studies/edwc-placement.yaml")
    _client_args(parser)
    parser.add_argument("--resume", action="store_true",
                        help="continue from the checkpoint <out>.checkpoint.pkl if there is one")
    parser.add_argument("--out", metavar="PATH", default=None,
                        help="result file (.nc or .zarr); default results/<study name>.nc")
    parser.add_argument("--pop-size", type=int, default=None, help="override the study's population size")
    parser.add_argument("--n-gen", type=int, default=None, help="override the study's number of generations")
    parser.add_argument("--seed", type=int, default=None, help="override the study's random seed")
    parser.add_argument("--force", action="store_true", help="overwrite --out if it exists")


def _print_problems(err: Exception) -> None:
    lines = str(err).splitlines() or [type(err).__name__]
    print(f"workbench: error: {lines[0]}", file=sys.stderr)
    for line in lines[1:]:
        print(line, file=sys.stderr)


def run_optimize(args) -> int:
    """Run a study file; print a summary of the front; write the result atomically."""
    from .results import result_summary
    from .study import Study

    overrides = {k: v for k, v in (("pop_size", args.pop_size), ("n_gen", args.n_gen), ("seed", args.seed))
                 if v is not None}
    try:
        study = Study.from_yaml(args.study, **overrides)
    except StudyError as err:
        _print_problems(err)
        return 2
    out = Path(args.out) if args.out else Path("results") / f"{study.name}.nc"
    if not args.resume:
        _refuse_overwrite(out, args.force)
    checkpoint = Path(str(out) + ".checkpoint.pkl")
    if args.resume and not checkpoint.exists():
        print(f"no checkpoint at {checkpoint}: starting afresh", file=sys.stderr)
    from ..distributed import release_client

    client, owned = _client(args)
    try:
        res = study.optimize(client, n_workers=args.workers or None, out=out, resume=args.resume,
                             progress=not args.quiet)
    finally:
        release_client(client, owned)
    s = result_summary(res)
    print(f"study {study.name}: {s['solutions']} solutions ({s['feasible']} feasible) after {s['n_gen']} "
          f"generations, {s['n_eval']} evaluations; hypervolume {s['hypervolume']:.6g} ({res.attrs['runner']})")
    for name in res["objective"].values:
        v = res[str(name)].where(res["feasible"])
        units = res[str(name)].attrs.get("units", "")
        if int(res["feasible"].sum()):
            print(f"  {str(name):16s} {float(v.min()):.6g} .. {float(v.max()):.6g} {units}")
    print(f"result: {out}")
    return 0


def configure_sweep(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``workbench sweep``."""
    parser.add_argument("sweep", help="sweep file (YAML)")
    _client_args(parser)
    parser.add_argument("--out", metavar="PATH", default=None,
                        help="Zarr store for the results; default: the file's 'out' or results/<name>.zarr")


def run_sweep(args) -> int:
    """Run a sweep file; finished samples are cached in <out>.parts/ and skipped on rerun."""
    from ..sweep import load_sweep, sweep

    try:
        spec = load_sweep(args.sweep)
    except StudyError as err:
        _print_problems(err)
        return 2
    out = Path(args.out or spec.out or Path("results") / f"{spec.name}.zarr")
    from ..distributed import release_client

    client, owned = _client(args)
    try:
        res = sweep(spec, client, out=out, n_workers=args.workers or None, progress=not args.quiet)
    finally:
        release_client(client, owned)
    dims = ", ".join(f"{k}={v}" for k, v in res.sizes.items())
    print(f"sweep {spec.name}: {res.sizes['sample']} samples ({spec.method}); variables: "
          f"{', '.join(map(str, res.data_vars))}; dims {dims}")
    print(f"result: {out}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry point: ``python -m workbench.optimize.cli optimize|sweep FILE ...``."""
    parser = argparse.ArgumentParser(prog="python -m workbench.optimize.cli")
    sub = parser.add_subparsers(dest="command", required=True)
    configure_optimize(sub.add_parser("optimize"))
    configure_sweep(sub.add_parser("sweep"))
    args = parser.parse_args(argv)
    try:
        return run_optimize(args) if args.command == "optimize" else run_sweep(args)
    except StudyError as err:
        _print_problems(err)
        return 2
    except KeyboardInterrupt:
        print("interrupted (rerun with --resume to continue a study)", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
