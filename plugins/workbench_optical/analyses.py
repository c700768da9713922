"""The ``fabric`` analysis: supernodes at each site of a scenario and their totals."""

from __future__ import annotations

import json

import numpy as np
import xarray as xr

from .fabric import FabricDesignError, fabric_totals
from .presets import DEFAULT_PRESET_BY_CHIP, preset, preset_names

#: per-supernode totals carried to the site level: name -> (units, long_name)
_PER_SUPERNODE = {
    "chips": ("1", "chips in supernodes"), "bf16_flops": ("FLOP/s", "dense BF16 throughput in supernodes"),
    "hbm_bytes": ("B", "HBM capacity"), "switches": ("1", "packet switch chips"), "ocs": ("1", "optical circuit switches"),
    "transceivers": ("1", "optical transceivers"), "fabric_power_w": ("W", "fabric power"),
    "it_power_w": ("W", "IT power of the supernodes"), "fabric_cost_usd": ("USD", "fabric cost"),
}


def _preset_totals(name: str) -> xr.Dataset:
    """Totals of one preset supernode (read-only; cached on the plugin manager, as they depend on its chip
    catalogue)."""
    from workbench.model import read_only
    from workbench.plugins import get_plugin_manager

    return get_plugin_manager().cached(f"workbench_optical.preset_totals.{name}",
                                       lambda: read_only(fabric_totals(preset(name))))


def fabric_analysis(scenario, presets: dict | None = None) -> xr.Dataset:
    """Supernodes per site and their counts, FLOP/s, power (x the site's PUE) and cost.

    A site's supernodes come from its ``optical_supernode_preset`` / ``optical_supernodes``
    attributes where set; otherwise each chip type of the inventory is packed into the default
    preset of that chip (:data:`~workbench_optical.presets.DEFAULT_PRESET_BY_CHIP`, overridable
    with ``presets={"chip-id": "preset"}``): ``ceil(chips / chips per supernode)`` supernodes.
    Chips without a preset are reported as ``unmodelled_chips``.

    Parameters
    ----------
    scenario : workbench.Scenario
    presets : dict, optional
        Chip id -> preset name overrides.

    Returns
    -------
    xarray.Dataset
        ``supernodes`` over ``site`` x ``preset``; per site: chips, bf16_flops [FLOP/s], hbm_bytes [B],
        switches, ocs, transceivers, fabric_power_w, it_power_w, total_power_w [W] (IT x site PUE),
        fabric_cost_usd [USD], w_per_pflops [W/(PFLOP/s)], unmodelled_chips.
    """
    mapping = dict(DEFAULT_PRESET_BY_CHIP)
    mapping.update(presets or {})
    unknown = sorted(set(mapping.values()) - set(preset_names()))
    if unknown:
        raise FabricDesignError(f"unknown preset(s) {unknown}; presets: {', '.join(preset_names())}")
    sites = scenario["site"]
    site_ids = sites["site"].values
    inv = scenario.inventory.fillna(0.0)
    chips = inv["chip"].values.tolist()
    explicit = sites["optical_supernode_preset"].values.astype(str) if "optical_supernode_preset" in sites \
        else np.full(len(site_ids), "")
    explicit_n = sites["optical_supernodes"].values.astype(float) if "optical_supernodes" in sites \
        else np.zeros(len(site_ids))
    bad = sorted(set(explicit[explicit != ""]) - set(preset_names()))
    if bad:
        raise FabricDesignError(f"site.optical_supernode_preset: unknown preset(s) {bad}; presets: "
                                f"{', '.join(preset_names())}")
    used = sorted({mapping[c] for c in chips if c in mapping and float(inv.sel(chip=c).sum()) > 0}
                  | set(explicit[explicit != ""]))
    supernodes = np.zeros((len(site_ids), len(used)))
    for j, name in enumerate(used):
        design = preset(name)
        from_inventory = inv.sel(chip=design.chip).values if design.chip in chips else np.zeros(len(site_ids))
        if mapping.get(design.chip) == name:
            supernodes[:, j] = np.ceil(np.asarray(from_inventory, float) / design.count - 1e-9)
        chosen = (explicit == name) & (explicit_n > 0)
        supernodes[chosen, j] = explicit_n[chosen]
    modelled_chip = np.isin(chips, [preset(n).chip for n in used])
    unmodelled = inv.values[:, ~modelled_chip].sum(axis=1) if (~modelled_chip).any() else np.zeros(len(site_ids))
    ds = xr.Dataset(coords={"site": site_ids, "preset": used})
    ds["supernodes"] = (("site", "preset"), supernodes, {"units": "1", "long_name": "supernodes"})
    per = np.array([[float(_preset_totals(n)[k]) for k in _PER_SUPERNODE] for n in used]).reshape(len(used),
                                                                                                  len(_PER_SUPERNODE))
    site_tot = supernodes @ per if used else np.zeros((len(site_ids), len(_PER_SUPERNODE)))
    for i, (k, (unit, ln)) in enumerate(_PER_SUPERNODE.items()):
        ds[k] = ("site", site_tot[:, i], {"units": unit, "long_name": ln})
    pue = sites["pue"].values.astype(float) if "pue" in sites else np.ones(len(site_ids))
    ds["total_power_w"] = ("site", ds["it_power_w"].values * pue, {"units": "W", "long_name": "total power (IT x PUE)"})
    with np.errstate(divide="ignore", invalid="ignore"):
        wpp = np.where(ds["bf16_flops"].values > 0, ds["total_power_w"].values / (ds["bf16_flops"].values / 1e15),
                       np.nan)
    ds["w_per_pflops"] = ("site", wpp, {"units": "W/(PFLOP/s)", "long_name": "total power per PFLOP/s"})
    ds["unmodelled_chips"] = ("site", unmodelled, {"units": "1", "long_name": "chips without a supernode preset"})
    summary = {"supernodes": {n: int(supernodes[:, j].sum()) for j, n in enumerate(used)},
               "chips_in_supernodes": float(ds["chips"].sum()), "unmodelled_chips": float(unmodelled.sum()),
               "bf16_eflops": float(ds["bf16_flops"].sum()) / 1e18, "fabric_power_mw": float(ds["fabric_power_w"].sum()) / 1e6,
               "total_power_mw": float(ds["total_power_w"].sum()) / 1e6,
               "transceivers": float(ds["transceivers"].sum())}
    ds.attrs["summary_json"] = json.dumps(summary)
    ds.attrs["summary_text"] = (
        "supernodes: " + ", ".join(f"{v:,} x {k}" for k, v in summary["supernodes"].items())
        + f"; {summary['chips_in_supernodes']:,.0f} chips ({summary['unmodelled_chips']:,.0f} without a preset), "
        f"{summary['bf16_eflops']:,.2f} EFLOP/s BF16, fabric {summary['fabric_power_mw']:,.2f} MW, total "
        f"{summary['total_power_mw']:,.1f} MW incl. PUE, {summary['transceivers']:,.0f} transceivers")
    return ds
