"""The ``workbench`` command line.

Core commands: ``info``, ``plugins``, ``datasets``, ``validate``, ``analyze``, ``import-topology``,
``run``, ``optimize``, ``sweep``; plugins add more through ``workbench_commands``. Errors print
one clear line (or one line per problem of a scenario file) and exit with status 2.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

import numpy as np

from .errors import PluginError, ScenarioError, WorkbenchError


def _json_default(obj):
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def print_json(obj) -> None:
    print(json.dumps(obj, indent=2, default=_json_default, ensure_ascii=False))


# -- core commands ----------------------------------------------------------------------------------
def cmd_info(args) -> int:
    import dask
    import pluggy
    import pymoo
    import xarray

    import workbench as wb

    info = {
        "workbench": wb.__version__, "python": sys.version.split()[0], "xarray": xarray.__version__,
        "dask": dask.__version__, "pymoo": pymoo.__version__, "pluggy": pluggy.__version__,
        "kinds": list(wb.get_schema().kinds), "datasets": wb.list_datasets()["name"].tolist(),
        "analyses": list(wb.list_analyses()),
        "plugins": {r["name"]: f"{r['version']} ({r['status']})" for r in wb.plugins(all=True).to_dict("records")},
    }
    if args.json:
        print_json(info)
    else:
        for k, v in info.items():
            print(f"{k:10s} {', '.join(v) if isinstance(v, list) else v if not isinstance(v, dict) else ''}")
            if isinstance(v, dict):
                for name, status in v.items():
                    print(f"{'':10s} {name} {status}")
    return 0


def cmd_plugins(args) -> int:
    import workbench as wb

    table = wb.plugins(all=args.all)
    if args.json:
        print_json(table.to_dict("records"))
    elif table.empty:
        print("no plugins installed (use --all to include the core built-ins)")
    else:
        print(table[["name", "version", "source", "status", "hooks"]].to_string(index=False))
        for rec in table[table.status == "failed"].to_dict("records"):
            print(f"failed: {rec['name']}: {rec['error']}")
    return 0


def cmd_datasets(args) -> int:
    import workbench as wb

    table = wb.list_datasets()
    if args.json:
        print_json(table.to_dict("records"))
    else:
        print(table.to_string(index=False))
    return 0


def cmd_validate(args) -> int:
    import workbench as wb

    sc = wb.load_scenario(args.file)
    problems = sc.validate()
    if problems:
        raise ScenarioError(problems, str(args.file))
    t = sc.totals()
    print(f"{args.file}: OK: scenario {sc.name!r}: {t['sites']} sites, {t['links']} links, "
          f"{t['chips_installed']:,.0f} accelerators, {t['device_groups']} device groups")
    return 0


def _parse_params(pairs: list[str]) -> dict:
    import yaml

    params = {}
    for pair in pairs or []:
        if "=" not in pair:
            raise WorkbenchError(f"--param {pair!r}: expected KEY=VALUE")
        key, value = pair.split("=", 1)
        params[key.strip()] = yaml.safe_load(value)
    return params


def cmd_analyze(args) -> int:
    import workbench as wb

    sc = wb.load_scenario(args.scenario)
    params = _parse_params(args.param)
    if args.budget_ms is not None:
        params["budget_ms"] = args.budget_ms[0] if len(args.budget_ms) == 1 else args.budget_ms
    _check_params(args.name, params)
    try:
        result = wb.analyze(args.name, sc, **params)
    except TypeError as err:  # a parameter of the wrong type (e.g. --param target_share=abc)
        raise WorkbenchError(f"analysis {args.name!r}: bad parameter value: {err}") from err
    if args.out:
        from .fileio import atomic_path

        with atomic_path(Path(args.out)) as tmp:
            result.to_netcdf(tmp, engine="h5netcdf")
    summary = result.attrs.get("summary_json")
    if args.json:
        print_json(json.loads(summary) if summary else _dataset_json(result))
    else:
        text = result.attrs.get("summary_text")
        print(text if text else result)
    return 0


def _check_params(name: str, params: dict) -> None:
    """Refuse parameters the analysis does not take, naming them (instead of a TypeError traceback)."""
    import inspect

    import workbench as wb

    specs = wb.list_analyses()
    if name not in specs:
        return  # wb.analyze gives the "unknown analysis" error listing the available ones
    sig = inspect.signature(specs[name].func)
    if any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values()):
        return
    accepted = [p for p in list(sig.parameters)[1:]]
    unknown = sorted(set(params) - set(accepted))
    if unknown:
        label = "--budget-ms" if unknown == ["budget_ms"] else "--param " + ", ".join(unknown)
        raise WorkbenchError(f"analysis {name!r} does not take {label}; it takes: {', '.join(accepted)}")


def _dataset_json(ds) -> dict:
    out = {"attrs": {k: v for k, v in ds.attrs.items() if isinstance(v, (str, int, float))}, "variables": {}}
    for name, var in ds.data_vars.items():
        if var.size <= 1000:
            out["variables"][name] = {"dims": list(var.dims), "units": var.attrs.get("units", ""),
                                      "values": var.values.tolist()}
    return out


def cmd_import_topology(args) -> int:
    from .io.topology_scenario import scenario_from_topology

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sc = scenario_from_topology(args.file, args.format)
    for w in caught:
        print(f"warning: {w.message}", file=sys.stderr)
    sc.to_netcdf(args.out)
    t = sc.totals()
    print(f"{args.file}: imported {t['sites']} sites and {t['links']} links as scenario {sc.name!r} -> {args.out}")
    return 0


def cmd_run(args) -> int:
    from .report import run_flagship

    out = run_flagship(scenario=args.scenario, out=args.out, budgets_ms=args.budget_ms)
    print(f"report: {out / 'report.html'}")
    return 0


# -- parser -----------------------------------------------------------------------------------------
def build_parser() -> tuple[argparse.ArgumentParser, dict]:
    parser = argparse.ArgumentParser(prog="workbench", description="Compute-Network Workbench")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    handlers: dict = {}

    p = sub.add_parser("info", help="versions, kinds, datasets, analyses and plugins")
    p.add_argument("--json", action="store_true")
    handlers["info"] = cmd_info

    p = sub.add_parser("plugins", help="list installed plugins (name, version, hooks, status)")
    p.add_argument("--all", action="store_true", help="include the core built-ins")
    p.add_argument("--json", action="store_true")
    handlers["plugins"] = cmd_plugins

    p = sub.add_parser("datasets", help="list named scenarios and catalogues")
    p.add_argument("--json", action="store_true")
    handlers["datasets"] = cmd_datasets

    p = sub.add_parser("validate", help="check a scenario file (YAML, NetCDF) and report every problem")
    p.add_argument("file")
    handlers["validate"] = cmd_validate

    p = sub.add_parser("analyze", help="run a named analysis (coverage, ...) on a scenario")
    p.add_argument("name", help="analysis name (see `workbench info`)")
    p.add_argument("--scenario", default="china-edwc", help="dataset name or scenario file [china-edwc]")
    p.add_argument("--budget-ms", type=float, nargs="+", default=None, help="one-way latency budgets [ms]")
    p.add_argument("--param", action="append", metavar="KEY=VALUE", help="extra analysis parameter (YAML value)")
    p.add_argument("--out", help="write the result to this NetCDF file")
    p.add_argument("--json", action="store_true")
    handlers["analyze"] = cmd_analyze

    p = sub.add_parser("import-topology", help="import a GraphML/GML topology into a scenario NetCDF file")
    p.add_argument("file")
    p.add_argument("--out", required=True)
    p.add_argument("--format", default=None, help="graphml or gml (default: from the suffix)")
    handlers["import-topology"] = cmd_import_topology

    p = sub.add_parser("run", help="run the flagship study and write an offline HTML report")
    p.add_argument("--scenario", default="china-edwc")
    p.add_argument("--out", default=None, help="output folder [results/<scenario>]")
    p.add_argument("--budget-ms", type=float, nargs="+", default=[1.0, 5.0, 20.0])
    handlers["run"] = cmd_run

    try:
        from .optimize import cli as opt_cli
    except ImportError:  # optimisation extras missing: the commands are simply absent
        opt_cli = None
    if opt_cli is not None:
        p = sub.add_parser("optimize", help="run a multi-objective study (YAML) locally or on a Dask cluster")
        opt_cli.configure_optimize(p)
        handlers["optimize"] = opt_cli.run_optimize
        p = sub.add_parser("sweep", help="run a parameter sweep (YAML) on Dask; results to Zarr")
        opt_cli.configure_sweep(p)
        handlers["sweep"] = opt_cli.run_sweep

    from .plugins import collect

    for name, spec in collect("commands").items():
        if name in handlers:
            raise PluginError(f"{spec.provided_by} defines CLI command {name!r}, which already exists")
        p = sub.add_parser(name, help=f"{spec.help} [{spec.provided_by}]")
        spec.configure(p)
        handlers[name] = spec.run
    return parser, handlers


def main(argv: list[str] | None = None) -> int:
    try:
        parser, handlers = build_parser()
        args = parser.parse_args(argv)
        if not args.command:
            parser.print_help()
            return 0
        return int(handlers[args.command](args) or 0)
    except ScenarioError as err:
        print(f"workbench: error: {err}", file=sys.stderr)
        return 2
    except (WorkbenchError, FileNotFoundError, KeyError, ValueError, OSError) as err:
        msg = err.args[0] if isinstance(err, KeyError) and err.args else err
        print(f"workbench: error: {msg}".splitlines()[0], file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("workbench: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
