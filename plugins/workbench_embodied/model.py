"""Embodied-AI catalogues (``datasets/embodied``), parameters, and inference times per model and chip.

Catalogues (units in the CSV headers, kept in the names here):

* ``device_classes.csv`` - per class: the remote policy loop (rate, deadline, miss target, survival time),
  the on-device loop, action chunking, payloads, models, on-device chip, escalation share, speed,
  devices per 1,000 residents, battery and radio power;
* ``access_networks.csv`` - round-trip access latency as a shifted lognormal fitted to two quantiles,
  optionally mixed with a heavy tail; handover interruption and cell size;
* ``policy_models.csv`` - what a loop runs: roofline inputs (FLOPs and bytes per inference) and a measured
  reference latency on a reference chip, or a model of the edge plugin's catalogue;
* ``device_chips.csv`` - on-device and reference compute (FLOP/s, memory bandwidth, power).

Inference time of model ``m`` on chip ``x``:

* the edge plugin's serving model where ``m`` names an edge-catalogue model and ``x`` is a data-centre chip
  (``prefill + osl x decode step`` at the operating batch, :func:`workbench_edge.serving.serving`);
* otherwise the **documented stand-in**: the roofline ``r(x) = max(FLOPs / F_x, bytes / B_x)`` scaled by the
  efficiency measured on the model's reference chip, ``t = r(x) x ref_latency / r(ref)`` (the reference
  measurement's overheads carry over), or ``r(x) / embodied_efficiency`` without a reference. A batch of
  ``b`` concurrent requests reads the weights once: ``r_b(x) = max(b FLOPs / F_x, bytes / B_x)``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from functools import cache

import numpy as np
import pandas as pd

from .dist import AccessDist, EmbodiedError

__all__ = ["EmbodiedParams", "KNEE_FACTOR", "OPTIONS", "REMOTE_TIERS", "access_dist", "class_table", "inference_ms",
           "load_table", "operating_point"]

#: placement options of a device group's remote loop, and the site tiers each remote option may use
OPTIONS = ("device", "edge", "regional", "hub", "split")
REMOTE_TIERS = {"edge": ("metro_edge", "bs_edge", "pop"), "regional": ("regional", "cluster"), "hub": ("hub",)}
#: (a ``pop`` site with accelerators is an edge site: imported topologies have only that tier)
#: the core's generic device classes and the catalogue class each stands for (documented in the analyses)
ALIASES = {"robot": "humanoid", "drone": "drone-c2"}
_TABLES = ("device_classes", "access_networks", "policy_models", "device_chips", "vla_measurements")
_UNIT = re.compile(r"^\s*(?P<name>[^\[]+?)\s*(?:\[(?P<unit>[^\]]*)\])?\s*$")
_TEXT = {"id", "name", "category", "access_tech", "model", "local_model", "device_chip", "kind", "edge_model",
         "ref_chip", "source", "notes", "chip", "config", "set"}


def _path(name: str):
    from workbench.datasets import dataset_path

    return dataset_path(f"embodied/{name}")


@cache
def _read(name: str) -> tuple[pd.DataFrame, dict]:
    if name not in _TABLES:
        raise EmbodiedError(f"unknown embodied catalogue {name!r}; expected one of {', '.join(_TABLES)}")
    path = _path(f"{name}.csv")
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    units, cols = {}, {}
    for col in raw.columns:
        m = _UNIT.match(col)
        units[m["name"]] = m["unit"] or ""
        cols[col] = m["name"]
    df = raw.rename(columns=cols)
    for col in df.columns:
        if col in _TEXT:
            continue
        vals = pd.to_numeric(df[col].replace("", np.nan), errors="coerce")
        bad = vals.isna() & (df[col] != "")
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise EmbodiedError(f"{path}: row {i + 2} ({df['id'].iloc[i]}), field {col!r}: expected a number "
                                f"[{units[col]}], got {df[col].iloc[i]!r}")
        df[col] = vals.astype(float)
    if df["id"].duplicated().any():
        raise EmbodiedError(f"{path}: duplicate ids {sorted(set(df['id'][df['id'].duplicated()]))}")
    return df.set_index("id", drop=False), units


def load_table(name: str) -> pd.DataFrame:
    """One catalogue of ``datasets/embodied`` as a DataFrame indexed by ``id`` (a copy; ``.attrs["units"]``)."""
    df, units = _read(name)
    out = df.copy()
    out.attrs["units"] = dict(units)
    return out


#: (column, lower, upper, required) range checks of device_classes.csv: a bad value is an error naming the row
_CLASS_BOUNDS = (("policy_hz", 0.0, 1e6, True), ("active_share", 0.0, 1.0, False), ("deadline", 0.0, 1e7, False),
                 ("miss_target", 0.0, 1.0, True), ("survival", 0.0, 1e7, False), ("chunk_steps", 1.0, 1e6, True),
                 ("action_hz", 0.0, 1e6, False), ("request_bytes", 0.0, 1e12, True),
                 ("response_bytes", 0.0, 1e12, True), ("escalation_share", 0.0, 1.0, False),
                 ("remote_only", 0.0, 1.0, False),
                 ("speed", 0.0, 1e4, False), ("per_1000_people", 0.0, 1e6, True), ("radio_power", 0.0, 1e4, False))


def class_table() -> pd.DataFrame:
    """Device classes, checked against the other catalogues and the value ranges of :data:`_CLASS_BOUNDS`."""
    cl = load_table("device_classes")
    for col, lo, hi, required in _CLASS_BOUNDS:
        v = cl[col].to_numpy(float)
        bad = (np.isnan(v) & required) | (~np.isnan(v) & ((v < lo) | (v > hi) | ((v == lo) & (lo == 0) & (col in (
            "policy_hz", "miss_target", "deadline")))))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise EmbodiedError(f"{_path('device_classes.csv')}: class {cl.index[i]!r}, field {col!r}: expected "
                                f"{'a number ' if required else 'empty or a number '}from {lo:g} to {hi:g} "
                                f"[{cl.attrs['units'].get(col, '')}], got "
                                f"{'empty' if np.isnan(v[i]) else format(float(v[i]), 'g')}")
    acc, pm, ch = (load_table(n).index for n in ("access_networks", "policy_models", "device_chips"))
    for col, known, what in (("access_tech", acc, "access_networks.csv"), ("model", pm, "policy_models.csv"),
                             ("local_model", pm, "policy_models.csv"), ("device_chip", ch, "device_chips.csv")):
        for cid, v in cl[col].items():
            if v and v not in known:
                raise EmbodiedError(f"{_path('device_classes.csv')}: class {cid!r}, field {col!r}: {v!r} is not an "
                                    f"id of {what}")
    return cl


@cache
def _access(tech: str) -> AccessDist:
    acc = _read("access_networks")[0]
    if tech not in acc.index:
        raise EmbodiedError(f"no access latency distribution for access technology {tech!r}; known: "
                            f"{', '.join(acc.index)} ({_path('access_networks.csv')})")
    r = acc.loc[tech]
    share = 0.0 if not np.isfinite(r["tail_share"]) else float(r["tail_share"])
    try:
        return AccessDist.from_quantiles(r["q1"], r["t1"], r["q2"], r["t2"], shift=np.nan_to_num(r["shift"]),
                                         tail_share=share, tail_median=r["tail_median"], tail_p99=r["tail_p99"],
                                         name=tech)
    except EmbodiedError as e:
        raise EmbodiedError(f"{_path('access_networks.csv')}: row {tech!r}: {e}") from None


def access_dist(tech: str) -> AccessDist:
    """The round-trip access latency distribution of an access technology (``access_networks.csv``)."""
    return _access(str(tech))


@dataclass(frozen=True)
class EmbodiedParams:
    """The scenario parameters the embodied model reads (defaults and sources in :mod:`workbench_embodied.plugin`)."""

    chip_share: float = 0.1          # 1, share of a site's accelerators reserved for device loops
    batch: float = 8.0               # 1, largest batch per accelerator (operating_point picks up to it)
    uplink_bps: float = 80.05e6      # bit/s
    downlink_bps: float = 351.14e6   # bit/s
    active_share: float = 0.5        # 1, devices running their loop in the peak hour
    efficiency: float = 0.5          # 1, roofline share reached without a measured reference
    processing_ms: float = 1.0       # ms, server-side pre/post-processing per request

    @classmethod
    def from_scenario(cls, scenario, **overrides) -> EmbodiedParams:
        from workbench.plugin_types import prefixed_parameters

        from .plugin import PARAMETERS

        return cls(**prefixed_parameters(scenario, "embodied", [f.name for f in fields(cls)], PARAMETERS, overrides,
                                         EmbodiedError))


# ---------------------------------------------------------------------- inference time


def _roofline_s(flops, nbytes, peak, bw, batch=1.0):
    return np.maximum(batch * flops / peak, nbytes / bw)


def _chip_rates(chip: str, chips=None) -> tuple[float, float, float]:
    """(FLOP/s, B/s, W) of a device chip or a data-centre chip (bf16 peak and HBM bandwidth)."""
    dc = _read("device_chips")[0]
    if chip in dc.index:
        r = dc.loc[chip]
        return float(r["flops"]), float(r["mem_bw"]), float(r["power"])
    if chips is None:
        import workbench as wb

        chips = wb.load_dataset("chips")
    ids = chips["chip"].values.astype(str).tolist()
    if chip not in ids:
        raise EmbodiedError(f"unknown chip {chip!r}: not in device_chips.csv ({', '.join(dc.index)}) nor in the "
                            f"scenario's chip catalogue")
    row = chips.sel(chip=chip)
    return float(row["bf16_flops"]), float(row["hbm_bw"]), float(row["tdp"])


def _edge_serving_ms(edge_model: str, chip: str, isl: int, osl: int, batch: int, chips, first_token: bool) -> float | None:
    """Request latency [ms] from the edge plugin's serving model (to the first token with ``first_token``), or None
    where it does not apply (plugin absent, chip not in its catalogue)."""
    try:
        from workbench_edge.catalogue import EdgeError, model_spec
        from workbench_edge.serving import serving
    except ImportError:                                     # edge plugin not installed: the stand-in
        return None
    try:
        spec = model_spec(edge_model)
        dtype = "fp8" if "fp8" in spec.dtypes else "bf16"
        try:
            ds = serving(spec, chip, dtype=dtype, isl=isl, osl=osl, batch=[batch], chips=chips)
        except EdgeError:
            ds = serving(spec, chip, dtype="bf16", isl=isl, osl=osl, batch=[batch], chips=chips)
    except Exception:                                       # chip unknown to the edge catalogue: the stand-in
        return None
    steps = 1 if first_token else osl
    t = float(ds["prefill_time"]) * batch + steps * float(ds["decode_step"].values[0])
    return t * 1e3 if np.isfinite(t) else None


def inference_ms(model: str, chip: str, batch: int = 1, params: EmbodiedParams | None = None, chips=None) -> float:
    """Time to the decision of one inference of ``model`` on one ``chip`` with ``batch`` concurrent requests [ms]
    (module docstring): the whole inference, or for ``kind == "llm"`` the first token (a reply streams; the
    deadlines of assistant classes are time-to-first-token limits)."""
    params = params or EmbodiedParams()
    pm = _read("policy_models")[0]
    if model not in pm.index:
        raise EmbodiedError(f"unknown policy model {model!r}; known: {', '.join(pm.index)} "
                            f"({_path('policy_models.csv')})")
    r = pm.loc[model]
    batch = max(int(batch), 1)
    llm = r["kind"] == "llm"
    isl = int(np.nan_to_num(r["isl"], nan=1))
    osl = int(np.nan_to_num(r["osl"], nan=1))
    dc = _read("device_chips")[0]
    if r["edge_model"] and chip not in dc.index:
        t = _edge_serving_ms(r["edge_model"], chip, isl, osl, batch, chips, llm)
        if t is not None:
            return t
    flops, nbytes = float(r["flops_per_inference"]), float(r["bytes_per_inference"])
    if not (np.isfinite(flops) and np.isfinite(nbytes)):
        raise EmbodiedError(f"{_path('policy_models.csv')}: model {model!r} has no flops_per_inference / "
                            f"bytes_per_inference for the roofline stand-in on chip {chip!r}")
    peak, bw, _ = _chip_rates(chip, chips)
    if llm:     # prefill of the prompt and one weight read give the first token
        roof = float(_roofline_s(flops * isl / max(isl + osl, 1), nbytes / max(osl, 1), peak, bw, batch))
    else:
        roof = float(_roofline_s(flops, nbytes, peak, bw, batch))
    ref = r["ref_chip"]
    if ref and np.isfinite(r["ref_latency"]):
        rpeak, rbw, _ = _chip_rates(ref, chips)
        return roof * float(r["ref_latency"]) / float(_roofline_s(flops, nbytes, rpeak, rbw))
    return roof / params.efficiency * 1e3


#: a batch may cost at most this factor of the single-request latency (the roofline knee: below it a batch adds
#: throughput for free, above it only latency). Assumed: 1.25.
KNEE_FACTOR = 1.25


def operating_point(model: str, chip: str, params: EmbodiedParams | None = None, chips=None) -> tuple[int, float]:
    """(batch, latency [ms]) a serving site runs ``model`` at on ``chip``: the largest batch up to ``embodied_batch``
    whose latency is at most :data:`KNEE_FACTOR` x the single-request latency."""
    params = params or EmbodiedParams()
    t1 = inference_ms(model, chip, 1, params, chips)
    best = (1, t1)
    b = 2
    while b <= int(params.batch):
        t = inference_ms(model, chip, b, params, chips)
        if t > KNEE_FACTOR * t1:
            break
        best = (b, t)
        b *= 2
    return best


def device_power_w(chip: str) -> float:
    """Inference power of an on-device chip [W]."""
    return _chip_rates(chip)[2]


def validation() -> pd.DataFrame:
    """The roofline stand-in against published pi0 measurements (``datasets/embodied/vla_measurements.csv``).

    Chosen on: the paper's 1-view RTX 4090 latency (the pi0 row's reference). Held out, by class:

    * ``chip`` - the same configuration on another chip (RTX 5090), predicted from its RTX 4090 figure by the
      roofline ratio (what the stand-in does for every edge and on-device chip);
    * ``views`` - more camera views on the same chip, predicted from the 1-view efficiency of the same
      configuration (measured / roofline) and the roofline of the larger input.

    Returns one row per held-out measurement: ``measured`` and ``predicted`` [ms], ``error`` [1] (predicted /
    measured - 1), ``class``.
    """
    m = load_table("vla_measurements")
    pm = _read("policy_models")[0]

    def roof(model, chip):
        r = pm.loc[model]
        peak, bw, _ = _chip_rates(chip)
        return float(_roofline_s(float(r["flops_per_inference"]), float(r["bytes_per_inference"]), peak, bw))

    rows = []
    for _, r in m.iterrows():
        if r["set"] == "held_out_chip":
            ref = m[(m["config"] == r["config"]) & (m["model"] == r["model"]) & (m["set"] == "reference")].iloc[0]
            pred = ref["latency"] * roof(r["model"], r["chip"]) / roof(ref["model"], ref["chip"])
            rows.append((r["id"], "chip", r["latency"], pred))
    for cfg in sorted(set(m["config"])):
        one = m[(m["config"] == cfg) & (m["model"] == "pi0") & (m["chip"] == "rtx-4090")].iloc[0]
        eff = one["latency"] / roof("pi0", "rtx-4090")
        for _, r in m[(m["config"] == cfg) & (m["chip"] == "rtx-4090") & (m["model"] != "pi0")].iterrows():
            rows.append((r["id"], "views", r["latency"], eff * roof(r["model"], r["chip"])))
    out = pd.DataFrame(rows, columns=["id", "class", "measured", "predicted"])
    out["error"] = out["predicted"] / out["measured"] - 1.0
    return out
