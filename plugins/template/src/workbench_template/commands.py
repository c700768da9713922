"""The ``workbench uptime`` command: available compute of a scenario, or the tier catalogue."""

from __future__ import annotations

import argparse
import json


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the command's arguments."""
    parser.add_argument("--scenario", default="china-edwc",
                        help="dataset name or scenario file (YAML, NetCDF) [china-edwc]")
    parser.add_argument("--dtype", default="bf16", choices=["bf16", "fp8", "fp4"], help="precision [bf16]")
    parser.add_argument("--tiers", action="store_true", help="print the uptime-tiers catalogue instead")
    parser.add_argument("--json", action="store_true", help="print JSON")


def run(args: argparse.Namespace) -> int:
    """Print per-site available compute [PFLOP/s] and downtime [h/yr], then the totals."""
    import workbench as wb

    if args.tiers:
        tiers = wb.load_dataset("uptime-tiers")
        frame = tiers[["availability", "annual_downtime", "published_downtime"]].to_dataframe()
        print(frame.to_json(orient="index") if args.json else frame.to_string(float_format=lambda x: f"{x:.5g}"))
        return 0
    result = wb.analyze("available_compute", wb.load_scenario(args.scenario), dtype=args.dtype)
    if args.json:
        print(result.attrs["summary_json"])
        return 0
    has = result["installed"] > 0
    table = result[["available", "annual_downtime"]].sel(site=has).to_dataframe()
    table["available"] /= 1e15
    print(table.rename(columns={"available": "available [PFLOP/s]", "annual_downtime": "downtime [h/yr]"})
          .to_string(float_format=lambda x: f"{x:,.2f}"))
    print(result.attrs["summary_text"])
    return 0


def summary(result) -> dict:
    """The JSON summary of an ``available_compute`` result, as a dict."""
    return json.loads(result.attrs["summary_json"])
