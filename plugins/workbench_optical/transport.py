"""Optical transport between sites: wavelengths, capacity, transponders, amplifiers, latency.

A site-to-site link carries ``wavelengths`` coherent carriers of ``wavelength_rate`` [bit/s] over a
fibre of ``length`` [km]. For each link (vectorised over links):

* capacity = wavelengths x rate [bit/s];
* transponders = 2 per wavelength (one per end) + 2 per wavelength per regeneration site;
  regenerations = ceil(length / unregenerated reach) - 1 (reach of the transponder class);
* in-line amplifiers = ceil(length / amplifier spacing) - 1 (one site carries every wavelength);
* power = transponders x transponder power + amplifiers x amplifier power [W];
* one-way latency contribution [ms] = fibre (4.9 us/km) + amplifiers x 0.15 us + regenerations x
  OEO + OTN hops x OEO + ROADM hops x ROADM pass-through + DSP/FEC at the ends.

Figures come from ``datasets/optical/transport.csv`` and ``transport_elements.csv``.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from workbench.errors import WorkbenchError
from workbench.latency import FIBRE_DELAY_MS_PER_KM
from workbench.paths import link_length_km

from . import catalogues as cat


class TransportError(WorkbenchError, ValueError):
    """Bad transport input (names the link and the field)."""


def transponder_class(rate_bps) -> np.ndarray:
    """Long-haul transponder class id per wavelength rate (400G -> ``400g-zrplus``, 800G ->
    ``800g-coherent``); ``""`` where the rate is NaN (dark link)."""
    import pandas as pd

    table = cat.transponders().drop(index="400g-zr", errors="ignore")
    by_rate = pd.Series(table.index.to_numpy(), index=table["rate"].to_numpy())
    r = pd.Series(np.atleast_1d(np.asarray(rate_bps, dtype=float)))
    out = r.map(by_rate)
    bad = out.isna() & r.notna()
    if bad.any():
        raise TransportError(f"wavelength rate(s) {sorted((r[bad] / 1e9).unique().tolist())} Gbit/s have no "
                             f"transponder class; expected {sorted((table['rate'] / 1e9).tolist())} Gbit/s "
                             "(datasets/optical/transport.csv)")
    return out.fillna("").to_numpy(dtype=object)


def link_transport(length_km, wavelengths, wavelength_rate, amplifier_spacing_km=None, roadm_hops=0,
                   otn_hops=0, names=None) -> xr.Dataset:
    """Capacity, transponders, amplifiers, power and one-way latency of optical links.

    Parameters
    ----------
    length_km : array-like
        Fibre route length [km].
    wavelengths : array-like
        Lit wavelengths per link [1].
    wavelength_rate : array-like
        Line rate per wavelength [bit/s] (400e9 or 800e9).
    amplifier_spacing_km : array-like, optional
        In-line amplifier spacing [km]; default from ``transport_elements.csv`` (80 km).
    roadm_hops, otn_hops : array-like
        Intermediate ROADM pass-throughs and OTN (electrical) switching hops [1].
    names : sequence of str, optional
        Link ids for the ``link`` coordinate.

    Returns
    -------
    xarray.Dataset
        Over ``link``: capacity [bit/s], transponders [1], regenerations [1], amplifiers [1],
        transponder_power, amplifier_power, power [W], latency [ms] (one way), fibre_latency [ms].
    """
    el = cat.transport_elements()
    length = np.atleast_1d(np.asarray(length_km, dtype=float))
    n = length.size
    w = np.broadcast_to(np.asarray(wavelengths, dtype=float), (n,))
    rate = np.broadcast_to(np.asarray(wavelength_rate, dtype=float), (n,))
    spacing = np.broadcast_to(np.asarray(el.loc["amplifier", "spacing"] if amplifier_spacing_km is None
                                         else amplifier_spacing_km, dtype=float), (n,))
    roadm = np.broadcast_to(np.asarray(roadm_hops, dtype=float), (n,))
    otn = np.broadcast_to(np.asarray(otn_hops, dtype=float), (n,))
    names = list(names) if names is not None else [f"link{i}" for i in range(n)]
    for arr, what in ((length, "length"), (w, "wavelengths"), (spacing, "amplifier spacing")):
        bad = ~np.isfinite(arr) | (arr < 0)
        if what == "amplifier spacing":
            bad |= arr == 0
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise TransportError(f"link {names[i]}: {what} must be a finite number >= 0"
                                 f"{' and > 0' if what == 'amplifier spacing' else ''}, got {arr[i]}")
    lit = w > 0
    trx = cat.transponders()
    cls = transponder_class(np.where(lit, rate, np.nan))
    reach = trx["reach"].reindex(cls).to_numpy(dtype=float) / 1e3  # m -> km
    trx_power = np.nan_to_num(trx["power"].reindex(cls).to_numpy(dtype=float))
    regens = np.where(lit, np.maximum(np.ceil(length / reach - 1e-12) - 1, 0), 0)
    amps = np.maximum(np.ceil(length / spacing - 1e-12) - 1, 0)
    amps = np.where(lit, amps, 0)
    transponders = np.where(lit, 2 * w * (1 + regens), 0)
    lat_us = el["latency"] * 1e6  # s -> us
    fibre_ms = length * FIBRE_DELAY_MS_PER_KM
    latency_ms = (fibre_ms + 1e-3 * (amps * lat_us["amplifier"] + regens * lat_us["regeneration"]
                                     + otn * lat_us["otn_hop"] + roadm * lat_us["roadm_hop"]
                                     + np.where(lit, lat_us["fec"], 0.0)))
    amp_power = amps * float(el.loc["amplifier", "power"])

    def var(values, units, long_name):
        return ("link", np.asarray(values, dtype=float), {"units": units, "long_name": long_name})

    return xr.Dataset({
        "capacity": var(w * rate, "bit/s", "optical capacity"),
        "wavelengths": var(w, "1", "lit wavelengths"),
        "wavelength_rate": var(rate, "bit/s", "line rate per wavelength"),
        "transponders": var(transponders, "1", "coherent transponders (ends and regenerators)"),
        "regenerations": var(regens, "1", "OEO regeneration sites"),
        "amplifiers": var(amps, "1", "in-line amplifier sites"),
        "transponder_power": var(transponders * trx_power, "W", "transponder power"),
        "amplifier_power": var(amp_power, "W", "in-line amplifier power"),
        "power": var(transponders * trx_power + amp_power, "W", "optical transport power"),
        "fibre_latency": var(fibre_ms, "ms", "one-way fibre propagation"),
        "latency": var(latency_ms, "ms", "one-way optical-layer latency"),
    }, coords={"link": names, "transponder_class": ("link", cls.astype(object))})


def transport_analysis(scenario, default_wavelengths: float | None = None, default_rate: float | None = None):
    """The ``transport`` analysis: optical transport of every link of a scenario.

    Link length: the link's ``length`` where given, else great-circle distance x the link's
    ``route_factor`` (or the scenario's ``route_factor``). Wavelengths: the link's
    ``optical_wavelengths``; where that is 0 and the link has a ``capacity``, the capacity divided by
    the wavelength rate (rounded up).

    Parameters
    ----------
    scenario : workbench.Scenario
    default_wavelengths : float, optional
        Wavelengths for links with neither ``optical_wavelengths`` nor ``capacity`` [1] (default 0).
    default_rate : float, optional
        Overrides every link's ``optical_wavelength_rate`` [bit/s].

    Returns
    -------
    xarray.Dataset
        :func:`link_transport` over the scenario's ``link`` dimension plus ``length`` [km], and
        site-to-site totals in attrs (``summary_json``).
    """
    import json

    links = scenario["link"]
    n = links.sizes.get("link", 0)
    if n == 0:
        return xr.Dataset(attrs={"summary_text": "no links", "summary_json": json.dumps({"links": 0})})
    length = link_length_km(scenario)            # the core path engine's rule: length, else great circle x rf

    def col(name, default):
        return links[name].values.astype(float) if name in links else np.full(n, float(default))

    rate = col("optical_wavelength_rate", 400e9) if default_rate is None else np.full(n, float(default_rate))
    w = col("optical_wavelengths", 0.0)
    cap = links["capacity"].values.astype(float) if "capacity" in links else np.full(n, np.nan)
    w = np.where((w <= 0) & np.isfinite(cap) & (cap > 0), np.ceil(cap / rate - 1e-9), w)
    if default_wavelengths is not None:
        w = np.where(w <= 0, float(default_wavelengths), w)
    ds = link_transport(length, w, rate, col("optical_amplifier_spacing", 80.0), col("optical_roadm_hops", 0.0),
                        col("optical_otn_hops", 0.0), names=links["link"].values.tolist())
    ds["length"] = ("link", length, {"units": "km", "long_name": "fibre route length"})
    ds = ds.assign_coords(src=("link", links["src"].values), dst=("link", links["dst"].values))
    summary = {"links": int(n), "capacity_tbps": float(ds["capacity"].sum()) / 1e12,
               "transponders": int(ds["transponders"].sum()), "amplifiers": int(ds["amplifiers"].sum()),
               "power_kw": float(ds["power"].sum()) / 1e3, "max_latency_ms": float(ds["latency"].max())}
    ds.attrs["summary_json"] = json.dumps(summary)
    ds.attrs["summary_text"] = (f"{n} links, {summary['capacity_tbps']:,.1f} Tbit/s lit, "
                                f"{summary['transponders']:,} transponders, {summary['amplifiers']:,} amplifier "
                                f"sites, {summary['power_kw']:,.1f} kW, longest one-way latency "
                                f"{summary['max_latency_ms']:.2f} ms")
    return ds
