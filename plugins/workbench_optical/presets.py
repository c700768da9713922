"""Presets of real systems, written as structural inputs only (``datasets/optical/presets.yaml``).

``preset("gb200-nvl72")`` returns a :class:`~workbench_optical.fabric.SupernodeDesign`; every total
is computed by :func:`~workbench_optical.fabric.fabric_totals`. :func:`compare_published` sets the
computed figures beside the published ones of ``published.csv`` with the relative error.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import yaml

from workbench import units as _units
from workbench.errors import UnitError

from . import catalogues as cat
from .fabric import FabricDesignError, SupernodeDesign, Tier, fabric_totals

#: Which preset models a chip of the scenario inventory in the ``fabric`` analysis.
DEFAULT_PRESET_BY_CHIP = {"gb200": "gb200-nvl72", "ascend-910c": "cloudmatrix-384", "tpu-v4": "tpu-v4-pod",
                          "h100-sxm": "hgx-h100", "h200-sxm": "hgx-h100"}

#: An 8-GPU HGX/DGX H100 board: not in presets.yaml because no published totals are compared;
#: 4 NVSwitch 3 chips on the baseboard (assumed: the DGX/HGX H100 layout), 4 nodes per rack (assumed).
_EXTRA = {
    "hgx-h100": {"name": "HGX H100 8-GPU baseboard", "chip": "h100-sxm", "count": 8, "chips_per_node": 8,
                 "nodes_per_rack": 4, "topology": "switched", "planes": 4,
                 "tiers": [{"span": "board", "medium": "board", "switch": "nvswitch-3"}],
                 "node_overhead": "0 W", "source": "assumed"},
}

_FIELDS = {"chip", "count", "chips_per_node", "nodes_per_rack", "topology", "tiers", "planes", "torus_dims",
           "cube_dims", "ocs", "spine_switches_per_rack", "node_overhead", "pue", "name", "source",
           "links_per_chip", "link_rate", "lanes_per_link", "lane_class"}


@functools.lru_cache(maxsize=1)
def _raw() -> dict:
    with cat.catalogue_path("presets.yaml").open(encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    data.update(_EXTRA)
    return data


def preset_names() -> list[str]:
    """Names of the shipped presets."""
    return list(_raw())


def design_from_dict(spec: dict, name: str = "", where: str = "preset") -> SupernodeDesign:
    """Build a design from a YAML-style dict of structural inputs (quantities as ``"600 W"``)."""
    unknown = set(spec) - _FIELDS
    if unknown:
        raise FabricDesignError(f"{where} {name!r}: unknown field(s) {sorted(unknown)}; expected {sorted(_FIELDS)}")
    try:
        overhead = _units.parse_quantity(str(spec.get("node_overhead", "0 W")), "W")
        link_rate = _units.parse_quantity(str(spec["link_rate"]), "bit/s") if "link_rate" in spec else None
        lane_class = _units.parse_quantity(str(spec["lane_class"]), "bit/s") if "lane_class" in spec else None
    except UnitError as err:
        raise FabricDesignError(f"{where} {name!r}: {err}") from None
    try:
        tiers = tuple(Tier(**t) for t in spec["tiers"])
        return SupernodeDesign(
            chip=spec["chip"], count=int(spec["count"]), topology=spec["topology"], tiers=tiers,
            chips_per_node=int(spec.get("chips_per_node", 8)), nodes_per_rack=int(spec.get("nodes_per_rack", 4)),
            planes=spec.get("planes"), torus_dims=spec.get("torus_dims"), cube_dims=spec.get("cube_dims"),
            ocs=spec.get("ocs"), spine_switches_per_rack=int(spec.get("spine_switches_per_rack", 0)),
            node_overhead_w=overhead, pue=float(spec.get("pue", 1.0)), links_per_chip=spec.get("links_per_chip"),
            link_rate=link_rate, lanes_per_link=spec.get("lanes_per_link"), lane_class=lane_class,
            name=spec.get("name", name))
    except (KeyError, TypeError) as err:
        raise FabricDesignError(f"{where} {name!r}: missing or malformed field: {err}") from None


def preset(name: str) -> SupernodeDesign:
    """The design of a named preset (``gb200-nvl72``, ``cloudmatrix-384``, ``tpu-v4-pod``, ``hgx-h100``)."""
    raw = _raw()
    if name not in raw:
        raise FabricDesignError(f"unknown preset {name!r}; presets: {', '.join(raw)}")
    return design_from_dict(raw[name], name)


def compare_published(names=None) -> pd.DataFrame:
    """Computed totals of the presets next to the published figures (``published.csv``).

    Returns
    -------
    pandas.DataFrame
        preset, quantity, unit, computed, published, error (computed / published - 1) [1],
        tolerance [1], within (bool), source, notes.
    """
    pub = cat.published()
    names = list(names) if names is not None else list(dict.fromkeys(pub["preset"]))
    rows = []
    for name in names:
        tot = fabric_totals(preset(name))
        for rec in pub[pub["preset"] == name].to_dict("records"):
            q = rec["quantity"]
            if q == "cubes":
                d = preset(name)
                computed = tot["chips"].item() / float(np.prod(d.cube_dims))
            elif q == "ocs_power_share":
                computed = tot["ocs_power_w"].item() / tot["it_power_w"].item()
            else:
                computed = tot[q].item()
            value = float(rec["value"])
            err = computed / value - 1
            tol = rec["tolerance"]
            within = computed <= value if q == "ocs_power_share" else abs(err) <= tol + 1e-12
            rows.append({"preset": name, "quantity": q, "unit": rec["unit"], "computed": computed,
                         "published": value, "error": err, "tolerance": tol, "within": bool(within),
                         "source": rec["source"], "notes": rec["notes"]})
    return pd.DataFrame(rows)
