"""The ``workbench`` command line.

Core commands: ``info``, ``plugins``, ``datasets``, ``validate``, ``analyze``, ``import-topology``,
``run``, ``optimize``, ``sweep``; plugins add more through ``workbench_commands``.

* Every error is one line on stderr (a scenario file's problems: one line each) and exit status 2;
  ``--debug`` prints the traceback instead. Unknown commands, analyses, datasets and ids get a
  "did you mean".
* An option given twice is an error (``--budget-ms 1 --budget-ms 5``: give ``--budget-ms 1 5``);
  ``--param`` is the one option meant to repeat (one ``KEY=VALUE`` each; a key twice is an error).
* Commands that write a file refuse to overwrite one without ``--force``.
* ``analyze`` prints a human summary of any analysis (:func:`workbench.summary.summarize`).
"""

from __future__ import annotations

import argparse
import inspect
import json
import math
import os
import re
import sys
import traceback
import warnings
from pathlib import Path

import numpy as np

from .errors import PluginError, ScenarioError, UnknownNameError, WorkbenchError, printable
from .plugins import collect
from .schema import did_you_mean


class UsageError(WorkbenchError, ValueError):
    """Bad command-line usage (unknown command or option, an option twice, a bad value)."""


class _StoreOnce(argparse.Action):
    """``store`` that refuses a second occurrence of the option instead of silently keeping the last."""

    def __call__(self, parser, namespace, values, option_string=None):
        given = namespace.__dict__.setdefault("_given_options", set())
        if self.dest in given:
            hint = (f"; give all values once: {option_string} A B" if self.nargs in ("+", "*") else "")
            raise argparse.ArgumentError(self, f"given more than once{hint}")
        given.add(self.dest)
        setattr(namespace, self.dest, values)


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors (raised as :class:`UsageError`), did-you-mean and no silent repeats."""

    def add_argument(self, *args, **kwargs):
        if args and str(args[0]).startswith("-") and kwargs.get("action") in (None, "store"):
            kwargs["action"] = _StoreOnce
        return super().add_argument(*args, **kwargs)

    def error(self, message: str):
        m = re.match(r"argument (\S+): invalid choice: '([^']*)' \(choose from (.*)\)", message)
        if m:
            choices = re.findall(r"'([^']*)'", m.group(3)) or [c.strip() for c in m.group(3).split(",")]
            what = "command" if m.group(1) in ("COMMAND", "command") else f"value for {m.group(1)}"
            message = (f"unknown {what} {m.group(2)!r}{did_you_mean(m.group(2), choices)}; "
                       f"choose from {', '.join(choices)}")
        m = re.match(r"unrecognized arguments: (.*)", message)
        if m:
            options = sorted({o for a in self._all_actions() for o in a.option_strings})
            first = m.group(1).split()[0]
            message += did_you_mean(first.split("=")[0], options)
        raise UsageError(f"{self.prog}: {message}")

    def _all_actions(self):
        for action in self._actions:
            yield action
            if isinstance(action, argparse._SubParsersAction):
                for sub in action.choices.values():
                    yield from sub._actions


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

    sc = wb.load_scenario(args.file, allow_paths=args.allow_path or ())
    problems = sc.validate()
    if problems:
        raise ScenarioError(problems, str(args.file))
    t = sc.totals()
    print(f"{args.file}: OK: scenario {sc.name!r}: {t['sites']} sites, {t['links']} links, "
          f"{t['chips_installed']:,.0f} accelerators, {t['device_groups']} device groups")
    return 0


def _parse_params(pairs: list[str]) -> dict:
    """``--param KEY=VALUE`` pairs (YAML 1.2 values) as a dict; a key given twice is an error."""
    from .io.safe_files import FileProblem, load_yaml

    params: dict = {}
    for pair in pairs or []:
        if "=" not in pair:
            raise UsageError(f"--param {pair!r}: expected KEY=VALUE")
        key, value = (t.strip() for t in pair.split("=", 1))
        if key in params:
            raise UsageError(f"--param {key} given twice; give each parameter once")
        try:
            parsed, problems = load_yaml(value, f"--param {key}")
        except FileProblem as err:
            raise UsageError(f"--param {key}={value}: {err.problem.message}") from None
        if problems:
            raise UsageError(f"--param {key}={value}: {problems[0].message}")
        params[key] = _plain(parsed)
    return params


def _plain(value):
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if k not in ("__line__", "__lines__")}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _coerce_params(name: str, func, params: dict) -> dict:
    """Convert parameter values to the type of each parameter's default, or fail in one line.

    A number default takes exactly one number; a list default takes one or more; a bool takes
    true/false; parameters without a default are passed as given.
    """
    sig = inspect.signature(func)
    out = {}
    for key, value in params.items():
        param = sig.parameters.get(key)
        default = param.default if param is not None else inspect.Parameter.empty
        label = "--budget-ms" if key == "budget_ms" else f"--param {key}"
        numeric = _annotated_number(param)
        if default is None and numeric and value is not None:  # ``x: float | None = None``: a number or nothing
            if isinstance(value, (list, tuple)) and len(value) == 1:
                value = value[0]
            out[key] = _number(name, label, value, integer=numeric == "int")
        elif default is inspect.Parameter.empty or default is None:
            out[key] = value
        elif isinstance(default, bool):
            if not isinstance(value, bool):
                raise UsageError(f"analysis {name!r}: {label}={value!r}: expected true or false")
            out[key] = value
        elif isinstance(default, (int, float, np.number)):
            if isinstance(value, (list, tuple)):
                if len(value) != 1:
                    raise UsageError(f"analysis {name!r} takes one value for {label}, got {len(value)}: "
                                     f"{' '.join(map(str, value))}")
                value = value[0]
            out[key] = _number(name, label, value, integer=isinstance(default, (int, np.integer)))
        elif isinstance(default, (list, tuple)):
            values = value if isinstance(value, (list, tuple)) else [value]
            numeric = all(isinstance(d, (int, float)) and not isinstance(d, bool) for d in default)
            out[key] = [_number(name, label, v) for v in values] if numeric else list(values)
        elif isinstance(default, str):
            if isinstance(value, (dict, list)):
                raise UsageError(f"analysis {name!r}: {label}: expected text, got {value!r}")
            out[key] = str(value)
        else:
            out[key] = value
    return out


def _annotated_number(param: inspect.Parameter | None) -> str:
    """``"float"`` or ``"int"`` when the parameter is annotated as that number (optionally ``| None``), else ``""``."""
    if param is None or param.annotation is inspect.Parameter.empty:
        return ""
    ann = param.annotation
    text = ann if isinstance(ann, str) else getattr(ann, "__name__", None) or str(ann)
    names = set(re.findall(r"[A-Za-z_]+", text)) - {"None", "Optional", "typing"}
    return next(iter(names)) if names in ({"float"}, {"int"}) else ""


def _number(name: str, label: str, value, integer: bool = False):
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise UsageError(f"analysis {name!r}: {label}={value!r}: expected a number")
    try:
        number = float(value)
    except ValueError:
        raise UsageError(f"analysis {name!r}: {label}={value!r}: expected a number") from None
    if not math.isfinite(number):
        raise UsageError(f"analysis {name!r}: {label}={value!r}: expected a finite number")
    if integer:
        if number != int(number):
            raise UsageError(f"analysis {name!r}: {label}={value!r}: expected an integer")
        return int(number)
    return number


def _refuse_overwrite(path, force: bool) -> None:
    if path is not None and Path(path).exists() and not force:
        raise UsageError(f"{path} exists; pass --force to overwrite it")


def cmd_analyze(args) -> int:
    import workbench as wb

    from .summary import summarize

    specs = wb.list_analyses()
    if args.name not in specs:  # before loading the scenario: a typo should not wait for it
        raise UnknownNameError(f"unknown analysis {args.name!r}{did_you_mean(args.name, specs)}; available: "
                               + ", ".join(f"{k} ({v.provided_by})" for k, v in specs.items()))
    _refuse_overwrite(args.out, args.force)
    params = _parse_params(args.param)
    if args.budget_ms is not None:
        if "budget_ms" in params:
            raise UsageError("budget_ms given both as --budget-ms and --param budget_ms; give it once")
        params["budget_ms"] = list(args.budget_ms)
    _check_params(args.name, params)
    params = _coerce_params(args.name, specs[args.name].func, params)
    sc = wb.load_scenario(args.scenario, allow_paths=args.allow_path or ())
    try:  # only a failure to bind the arguments is a parameter error
        inspect.signature(specs[args.name].func).bind(sc, **params)
    except TypeError as err:
        raise UsageError(f"analysis {args.name!r}: {err}") from err
    except ValueError:  # no introspectable signature
        pass
    try:
        result = wb.analyze(args.name, sc, **params)
    except ValueError as err:  # a core analysis refusing a value it was given (a TypeError inside is a bug)
        if isinstance(err, WorkbenchError):
            raise
        raise UsageError(f"analysis {args.name!r}: bad parameter value: {type(err).__name__}: {err}") from err
    if args.out:
        from .fileio import atomic_path, netcdf_safe

        with atomic_path(Path(args.out)) as tmp:
            netcdf_safe(result).to_netcdf(tmp, engine="h5netcdf")
    summary = result.attrs.get("summary_json")
    if args.json:
        print_json(json.loads(summary) if summary else _dataset_json(result))
    else:
        print(summarize(result, args.name, specs[args.name]))
    return 0


def _check_params(name: str, params: dict) -> None:
    """Refuse parameters the analysis does not take, naming them (instead of a TypeError traceback)."""
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
        raise UsageError(f"analysis {name!r} does not take {label}{did_you_mean(unknown[0], accepted)}; "
                         f"it takes: {', '.join(accepted)}")


def _dataset_json(ds) -> dict:
    out = {"attrs": {k: v for k, v in ds.attrs.items() if isinstance(v, (str, int, float))}, "variables": {}}
    for name, var in ds.data_vars.items():
        if var.size <= 1000:
            out["variables"][name] = {"dims": list(var.dims), "units": var.attrs.get("units", ""),
                                      "values": var.values.tolist()}
    return out


def cmd_import_topology(args) -> int:
    from .io.topology_scenario import scenario_from_topology

    _refuse_overwrite(args.out, args.force)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sc = scenario_from_topology(args.file, args.format)
    for w in caught:
        warnings.showwarning(w.message, w.category, w.filename, w.lineno)
    sc.to_netcdf(args.out)
    t = sc.totals()
    print(f"{args.file}: imported {t['sites']} sites and {t['links']} links as scenario {sc.name!r} -> {args.out}")
    return 0


def cmd_run(args) -> int:
    from .report import run_flagship

    if args.out and Path(args.out).is_dir() and any(Path(args.out).iterdir()) and not args.force:
        raise UsageError(f"{args.out} exists and is not empty; pass --force to overwrite its results")
    out = run_flagship(scenario=args.scenario, out=args.out, budgets_ms=args.budget_ms)
    print(f"report: {out / 'report.html'}")
    return 0


def cmd_export(args) -> int:
    import workbench as wb

    from .io.export import check_output_folder

    if not (args.out or args.geojson):
        raise UsageError("export: give --out DIR (YAML + CSV) and/or --geojson FILE")
    # every output is checked before anything is written: a refused --out must not follow a written --geojson
    if args.geojson:
        _refuse_overwrite(args.geojson, args.force)
        if Path(args.geojson).is_dir():
            raise UsageError(f"--geojson {args.geojson}: is a folder; give a file name")
    if args.out:
        check_output_folder(args.out, overwrite=args.force)
        if args.geojson and Path(os.path.abspath(args.geojson)).is_relative_to(os.path.abspath(args.out)):
            raise UsageError(f"--geojson {args.geojson} lies inside --out {args.out}, which is replaced as a whole; "
                             "write it elsewhere")
    sc = wb.load_scenario(args.scenario, allow_paths=args.allow_path or ())
    if args.out:
        check_output_folder(args.out, overwrite=args.force, kinds=sc.kinds)
    if args.geojson:
        sc.to_geojson(args.geojson, devices=args.devices)
        print(f"{args.geojson}: {sc['site'].sizes['site']} sites, {sc['link'].sizes['link']} links"
              + (f", {sc['device'].sizes['device']} device groups" if args.devices else ""))
    if args.out:
        path = sc.to_files(args.out, overwrite=args.force)
        print(f"{path}: scenario {sc.name!r} with {len(list(Path(args.out).glob('*.csv')))} CSV tables")
    return 0


def cmd_compare(args) -> int:
    import workbench as wb

    a = wb.load_scenario(args.a, allow_paths=args.allow_path or ())
    b = wb.load_scenario(args.b, allow_paths=args.allow_path or ())
    diff = wb.compare(a, b)
    if args.json:
        print_json(diff.to_dict("records"))
    elif diff.empty:
        print(f"{args.a} and {args.b}: the same data")
    else:
        print(f"{args.a} -> {args.b}: {len(diff)} difference{'s' if len(diff) != 1 else ''}")
        print(diff.to_string(index=False, max_rows=200))
    return 0 if diff.empty else 1


# -- parser -----------------------------------------------------------------------------------------
def build_parser() -> tuple[argparse.ArgumentParser, dict]:
    import workbench as wb

    parser = Parser(prog="workbench", description="Compute-Network Workbench")
    parser.add_argument("--version", action="version", version=f"workbench {wb.__version__}")
    parser.add_argument("--debug", action="store_true", help="show the full traceback of an error")
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

    p = sub.add_parser("validate", help="check a scenario (YAML, NetCDF, Zarr) and report every problem")
    p.add_argument("file")
    p.add_argument("--allow-path", action="append", metavar="DIR",
                   help="folder outside the scenario's folder its CSV references may read (repeatable)")
    handlers["validate"] = cmd_validate

    p = sub.add_parser("analyze", help="run a named analysis (coverage, ...) on a scenario")
    p.add_argument("name", help="analysis name (see `workbench info`)")
    p.add_argument("--scenario", default="china-edwc", help="dataset name or scenario file [china-edwc]")
    p.add_argument("--budget-ms", type=float, nargs="+", default=None, help="one-way latency budgets [ms]")
    p.add_argument("--param", action="append", metavar="KEY=VALUE",
                   help="extra analysis parameter (YAML value); repeat for several, each key once")
    p.add_argument("--allow-path", action="append", metavar="DIR",
                   help="folder outside the scenario's folder its CSV references may read (repeatable)")
    p.add_argument("--out", help="write the result to this NetCDF file")
    p.add_argument("--force", action="store_true", help="overwrite --out if it exists")
    p.add_argument("--json", action="store_true")
    handlers["analyze"] = cmd_analyze

    p = sub.add_parser("import-topology", help="import a GraphML/GML topology into a scenario NetCDF file")
    p.add_argument("file")
    p.add_argument("--out", required=True)
    p.add_argument("--force", action="store_true", help="overwrite --out if it exists")
    p.add_argument("--format", default=None, help="graphml or gml (default: from the suffix)")
    handlers["import-topology"] = cmd_import_topology

    p = sub.add_parser("export", help="write a scenario as YAML + CSV (unit headers) and/or GeoJSON")
    p.add_argument("scenario", help="dataset name or scenario file")
    p.add_argument("--out", metavar="DIR", help="folder for scenario.yaml and one CSV per table")
    p.add_argument("--geojson", metavar="FILE", help="GeoJSON of sites and links")
    p.add_argument("--devices", action="store_true", help="also put device groups into the GeoJSON")
    p.add_argument("--allow-path", action="append", metavar="DIR", help="see validate")
    p.add_argument("--force", action="store_true", help="overwrite existing outputs")
    handlers["export"] = cmd_export

    p = sub.add_parser("compare", help="list what differs between two scenarios (exit 1 if anything does)")
    p.add_argument("a")
    p.add_argument("b")
    p.add_argument("--allow-path", action="append", metavar="DIR", help="see validate")
    p.add_argument("--json", action="store_true")
    handlers["compare"] = cmd_compare

    p = sub.add_parser("run", help="run the flagship study and write an offline HTML report")
    p.add_argument("--scenario", default="china-edwc")
    p.add_argument("--out", default=None, help="output folder [results/<scenario>]")
    p.add_argument("--force", action="store_true", help="write into --out even if it has results")
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


    for name, spec in collect("commands").items():
        if name in handlers:
            raise PluginError(f"{spec.provided_by} defines CLI command {name!r}, which already exists")
        p = sub.add_parser(name, help=f"{spec.help} [{spec.provided_by}]")
        spec.configure(p)
        handlers[name] = spec.run
    return parser, handlers


def _error_line(err: BaseException) -> str:
    if isinstance(err, KeyError) and not isinstance(err, UnknownNameError) and err.args:
        text = str(err.args[0])
    else:
        text = str(err) or type(err).__name__
    return printable(text.splitlines()[0]) if text else type(err).__name__


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """``warnings.showwarning`` of the CLI: ``workbench: warning: <message>`` on one line (no source path
    and line of Python); ``--debug`` keeps Python's format."""
    text = printable(str(message))
    try:
        print(f"workbench: warning: {text}", file=file if file is not None else sys.stderr)
    except OSError:  # stderr closed: nowhere to warn
        pass


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv or os.environ.get("WORKBENCH_DEBUG", "") not in ("", "0")
    argv = [a for a in argv if a != "--debug"]  # accepted anywhere on the line, not only before the command
    previous_showwarning = warnings.showwarning
    if not debug:
        warnings.showwarning = _show_warning
    try:
        return _main(argv, debug)
    finally:
        warnings.showwarning = previous_showwarning


def _main(argv: list[str], debug: bool) -> int:
    try:
        parser, handlers = build_parser()
        args = parser.parse_args(argv)
        if not args.command:
            parser.print_help()
            return 0
        return int(handlers[args.command](args) or 0)
    except KeyboardInterrupt:
        print("workbench: interrupted", file=sys.stderr)
        return 130
    except SystemExit as err:  # --help / --version, or a plugin command calling sys.exit
        return int(err.code) if isinstance(err.code, int) else (0 if err.code is None else 2)
    except Exception as err:
        if debug:
            traceback.print_exc()
        if isinstance(err, ScenarioError) and len(err.problems) == 1:
            print(f"workbench: error: {err.problems[0]}", file=sys.stderr)
        elif isinstance(err, ScenarioError):
            print(f"workbench: error: {err}", file=sys.stderr)  # a head line, then one line per problem
        elif isinstance(err, (WorkbenchError, FileNotFoundError, KeyError, ValueError, OSError)):
            print(f"workbench: error: {_error_line(err)}", file=sys.stderr)
        else:
            print(f"workbench: error: {type(err).__name__}: {_error_line(err)} (unexpected: rerun with --debug "
                  "for the traceback and report it)", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
