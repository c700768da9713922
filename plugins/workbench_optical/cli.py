"""``workbench fabric``: print a supernode's computed totals (see README.md for the JSON keys)."""

from __future__ import annotations

import argparse

from workbench import units as _units
from workbench.errors import UnitError, WorkbenchError

from .collectives import allreduce_time
from .designs import design_from_choice
from .fabric import JSON_KEYS, TOPOLOGIES, fabric_totals, totals_dict, with_pue
from .presets import preset, preset_names


def configure(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``workbench fabric``."""
    parser.add_argument("--preset", help=f"a shipped preset ({', '.join(preset_names())})")
    parser.add_argument("--chip", help="chip id of the chip catalogue (with --count, --topology, --medium)")
    parser.add_argument("--count", type=int, help="chips in the supernode")
    parser.add_argument("--topology", choices=TOPOLOGIES)
    parser.add_argument("--medium", help="medium id of datasets/optical/media.csv for every cabled tier")
    parser.add_argument("--switch", default=None, help="switch id (switched/clos2; default by lane class)")
    parser.add_argument("--chips-per-node", type=int, default=4)
    parser.add_argument("--nodes-per-rack", type=int, default=16)
    parser.add_argument("--pue", type=float, default=None, help="power usage effectiveness [1] (default 1)")
    parser.add_argument("--message", default="1 GB", help="all-reduce message per rank, e.g. '1 GB' [B]")
    parser.add_argument("--json", action="store_true", help="print the totals as JSON (keys in the README)")


def _design(args):
    design_args = [args.chip, args.count, args.topology, args.medium]
    if args.preset and any(a is not None for a in design_args):
        raise WorkbenchError("fabric: give either --preset NAME or --chip/--count/--topology/--medium, not both")
    if args.preset:
        return preset(args.preset)
    if any(a is None for a in design_args):
        missing = [f"--{n}" for n, a in zip(("chip", "count", "topology", "medium"), design_args) if a is None]
        raise WorkbenchError(f"fabric: expected --preset NAME or all of --chip --count --topology --medium "
                             f"(missing {' '.join(missing)})")
    return design_from_choice(args.chip, args.count, args.topology, args.medium, chips_per_node=args.chips_per_node,
                              nodes_per_rack=args.nodes_per_rack, switch=args.switch)


def run(args) -> int:
    """Compute and print the totals; errors are WorkbenchErrors (one line, exit status 2)."""
    from workbench.cli import print_json

    design = _design(args)
    if args.pue is not None:
        design = with_pue(design, args.pue)
    try:
        message = _units.parse_quantity(args.message, "B")
    except UnitError as err:
        raise WorkbenchError(f"fabric: --message: {err}") from None
    ds = fabric_totals(design)
    out = totals_dict(ds)
    out["allreduce_time_s"] = allreduce_time(ds, message)
    if args.json:
        print_json({"design": ds.attrs["design"], "message_bytes": message, **out})
        return 0
    print(f"{ds.attrs['design']}  ({ds.attrs['topology']}, media: {ds.attrs['media']})")
    for key in JSON_KEYS:
        if key not in out:
            continue
        units = "s" if key == "allreduce_time_s" else ds[key].attrs.get("units", "")
        value = out[key]
        if value is None:
            text = "n/a (no sourced price)"
        elif abs(value) >= 1e9:
            text = f"{value:.4g}"
        elif abs(value) >= 1000 or float(value).is_integer():
            text = f"{value:,.0f}"
        else:
            text = f"{value:.4g}"
        print(f"  {key:26s} {text} {units if value is not None and units != '1' else ''}".rstrip())
    return 0
