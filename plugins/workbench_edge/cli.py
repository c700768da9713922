"""``workbench inference``: throughput, TTFT, TPOT and maximum batch of one deployment."""

from __future__ import annotations

import json

from .catalogue import EdgeError, load_models
from .serving import ServingParams, serving, summary

__all__ = ["configure", "format_summary", "run"]


def configure(parser) -> None:
    """Add the ``inference`` arguments to an ``argparse`` parser."""
    models = ", ".join(load_models()["model"].values.tolist())
    parser.add_argument("--model", default="llama-3.1-70b", help=f"model id [llama-3.1-70b]; one of: {models}")
    parser.add_argument("--chip", required=True, help="chip id from the chip catalogue (e.g. h100-sxm)")
    parser.add_argument("--count", type=int, default=1, help="chips in the deployment [1]")
    parser.add_argument("--dtype", default="bf16", help="bf16, fp8, int8 or fp4 [bf16]")
    parser.add_argument("--isl", type=int, default=1000, help="input tokens per request [1000]")
    parser.add_argument("--osl", type=int, default=1000, help="output tokens per request [1000]")
    parser.add_argument("--tp", type=int, default=None, help="tensor-parallel degree [count]")
    parser.add_argument("--kv-dtype", default=None, help="KV-cache format [fp8 for fp8/fp4 weights, else bf16]")
    parser.add_argument("--batch", type=int, default=None, help="concurrent sequences per replica [maximum]")
    parser.add_argument("--memory-bw-util", type=float, default=None, help="HBM bandwidth utilisation [0.6]")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")


def format_summary(at: dict, one: dict) -> str:
    """Human-readable lines for the summaries at the chosen batch and at batch 1."""
    head = (f"{at['model']} {at['dtype']} on {at['count']} x {at['chip']} (tp {at['tp']}, {at['replicas']} "
            f"replica{'s' if at['replicas'] != 1 else ''}), ISL {at['isl']} / OSL {at['osl']}, KV {at['kv_dtype']}")
    lines = [head, f"max batch: {at['max_batch']} sequences per replica"]
    for s in (at, one):
        lines.append(f"batch {s['batch']:>5}: throughput {s['throughput']:,.0f} output tokens/s "
                     f"({s['total_throughput']:,.0f} tokens/s incl. input, {s['request_rate']:,.3g} requests/s); "
                     f"TTFT {s['ttft'] * 1e3:,.1f} ms; TPOT {s['tpot'] * 1e3:,.2f} ms; "
                     f"{s['tokens_per_joule']:.3g} output tokens/J")
    lines.append(f"chip power {at['power']:,.0f} W (TDP x power_fraction); collectives: {at['collective_backend']}")
    return "\n".join(lines)


def run(args) -> int:
    """Run the command; print text or JSON; return 0. Bad input raises :class:`EdgeError`."""
    params = ServingParams()
    if args.memory_bw_util is not None:
        params = params.replace(memory_bw_util=args.memory_bw_util)
    ds = serving(args.model, args.chip, args.count, args.dtype, args.isl, args.osl, tp=args.tp,
                 kv_dtype=args.kv_dtype, params=params)
    nmax = int(ds["max_batch"])
    if nmax < 1:
        summary(ds)                       # raises a clear EdgeError: the weights do not fit
    batch = nmax if args.batch is None else args.batch
    if batch < 1:
        raise EdgeError(f"--batch must be >= 1, got {batch}")
    if batch > nmax:
        raise EdgeError(f"--batch {batch} exceeds the maximum batch {nmax} that fits in HBM "
                        f"({ds.attrs['tp']} x {ds.attrs['chip']}, ISL {args.isl} + OSL {args.osl} tokens per sequence)")
    ds = serving(args.model, args.chip, args.count, args.dtype, args.isl, args.osl, tp=args.tp,
                 kv_dtype=args.kv_dtype, params=params, batch=sorted({1, batch}))
    at, one = summary(ds, batch), summary(ds, 1)
    if args.json:
        print(json.dumps({"at_batch": at, "batch_1": one}, indent=2))
    else:
        print(format_summary(at, one))
    return 0
