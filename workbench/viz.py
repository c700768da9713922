"""Plots for notebooks and reports: maps, coverage and Pareto views (hvplot/HoloViews, offline).

Maps are plain lon/lat plots (no tile servers, no geoviews): links as ``hv.Segments``, sites and
population as scatter points. In a notebook, call ``hv.extension("bokeh", inline=True)`` before
``import hvplot.pandas`` so BokehJS is embedded and plots render without internet.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

TIER_ORDER = ["hub", "cluster", "regional", "metro_edge", "bs_edge", "cpe", "pop"]


def _hv():
    import holoviews as hv
    import hvplot.pandas  # noqa: F401  (registers .hvplot on DataFrames)

    return hv


def link_segments(scenario):
    """Links as an ``hv.Segments`` element in lon/lat."""
    hv = _hv()
    site = scenario["site"]
    link = scenario["link"]
    pos = pd.DataFrame({"lon": site["lon"].values, "lat": site["lat"].values}, index=site["site"].values)
    df = pd.DataFrame({"x0": pos.loc[link["src"].values, "lon"].values, "y0": pos.loc[link["src"].values, "lat"].values,
                       "x1": pos.loc[link["dst"].values, "lon"].values, "y1": pos.loc[link["dst"].values, "lat"].values,
                       "link": link["link"].values, "tech": link["tech"].values})
    return hv.Segments(df, kdims=["x0", "y0", "x1", "y1"], vdims=["link", "tech"]).opts(
        color="#999999", line_width=1, alpha=0.6)


def site_map(scenario, *, links: bool = True, devices: bool = True, width: int = 760, height: int = 560,
             title: str | None = None):
    """Map of sites (coloured by tier, sized by installed FLOP/s), links and device groups."""
    hv = _hv()
    site = scenario["site"]
    flops = scenario.site_compute_flops().values / 1e15
    sdf = pd.DataFrame({"lon": site["lon"].values, "lat": site["lat"].values, "site": site["site"].values,
                        "name": site["name"].values, "tier": site["tier"].values,
                        "pflops": flops, "size": 40 + 160 * np.sqrt(flops / max(flops.max(), 1e-9))})
    layers = []
    if links and scenario["link"].sizes["link"]:
        layers.append(link_segments(scenario))
    if devices and scenario["device"].sizes["device"]:
        dev = scenario["device"]
        ddf = pd.DataFrame({"lon": dev["lon"].values, "lat": dev["lat"].values, "name": dev["name"].values,
                            "population_m": dev["endpoints"].values / 1e6})
        layers.append(ddf.hvplot.scatter(x="lon", y="lat", s="population_m", scale=4, color="#7fa7d9",
                                         alpha=0.6, hover_cols=["name", "population_m"], label="population (M)"))
    layers.append(sdf.hvplot.scatter(x="lon", y="lat", by="tier", size="size", hover_cols=["site", "name", "pflops"],
                                     alpha=0.9, line_color="black"))
    overlay = hv.Overlay(layers)
    return overlay.opts(width=width, height=height, xlabel="longitude (°E)", ylabel="latitude (°N)",
                        title=title or f"{scenario.name}: sites, links and population", legend_position="right")


def coverage_map(cov, budget_ms: float = 1.0, scenario=None, *, width: int = 760, height: int = 560):
    """Device groups coloured by the share of their population inside ``budget_ms``."""
    hv = _hv()
    share = cov["share"].sel(budget=budget_ms)
    df = pd.DataFrame({"lon": cov["lon"].values, "lat": cov["lat"].values, "name": cov["name"].values,
                       "share_pct": 100 * share.values, "population_m": cov["population"].values / 1e6,
                       "latency_ms": cov["centre_latency"].values, "site": cov["nearest_site"].values})
    pts = df.hvplot.scatter(x="lon", y="lat", c="share_pct", s="population_m", scale=2.0, cmap="RdYlGn",
                            clim=(0, 100), hover_cols=["name", "population_m", "share_pct", "latency_ms", "site"],
                            colorbar=True, clabel=f"% of population within {budget_ms:g} ms")
    layers = [pts]
    if scenario is not None:
        site = scenario["site"]
        mask = scenario.compute_sites().values
        sdf = pd.DataFrame({"lon": site["lon"].values[mask], "lat": site["lat"].values[mask],
                            "site": site["site"].values[mask], "tier": site["tier"].values[mask]})
        layers.insert(0, link_segments(scenario))
        layers.append(sdf.hvplot.scatter(x="lon", y="lat", marker="triangle", color="black", size=40,
                                         hover_cols=["site", "tier"], label="sites with compute"))
    national = float(cov["national_share"].sel(budget=budget_ms))
    return hv.Overlay(layers).opts(
        width=width, height=height, xlabel="longitude (°E)", ylabel="latitude (°N)",
        title=f"{cov.attrs.get('scenario', '')}: {100 * national:.1f}% of population within {budget_ms:g} ms one-way")


def coverage_bars(cov, top: int = 30):
    """National share per budget (bars), and per budget the share of the ``top`` groups with the most
    people outside the tightest budget (heat map): where new edge sites matter most."""
    national = cov["national_share"].to_dataframe().reset_index()
    national["budget"] = national["budget"].map(lambda b: f"{b:g} ms")
    national["share_pct"] = 100 * national["national_share"]
    left = national.hvplot.bar(x="budget", y="share_pct", ylim=(0, 100), ylabel="% of population",
                               xlabel="one-way budget", title="National share within budget", width=300, height=420)
    first = cov["share"].isel(budget=0)
    outside = (cov["population"] * (1 - first)).to_series()
    biggest = outside.nlargest(top).index
    sub = cov["share"].sel(device=biggest).to_dataframe().reset_index()
    sub["name"] = cov["name"].sel(device=sub["device"].values).values
    sub["budget"] = sub["budget"].map(lambda b: f"{b:g} ms")
    sub["share_pct"] = 100 * sub["share"]
    right = sub.hvplot.heatmap(x="budget", y="name", C="share_pct", cmap="RdYlGn", clim=(0, 100),
                               title=f"{top} groups with most people outside {float(cov.budget[0]):g} ms", width=420,
                               height=420 + 6 * max(top - 30, 0), xlabel="one-way budget", ylabel="",
                               clabel="% of population", flip_yaxis=True)
    return left + right


def siting_map(siting, cov, scenario=None, *, width: int = 760, height: int = 560):
    """Coverage map at the siting budget with the proposed new edge sites numbered in order."""
    _hv()
    base = coverage_map(cov, float(siting.attrs["budget_ms"]), scenario, width=width, height=height)
    df = siting[["lon", "lat", "name", "gain", "cumulative_share"]].to_dataframe().reset_index()
    df["cumulative_pct"] = 100 * df["cumulative_share"]
    new = df.hvplot.scatter(x="lon", y="lat", marker="star", color="#6a0dad", size=120,
                            hover_cols=["new_site", "name", "gain", "cumulative_pct"], label="proposed edge sites")
    return (base * new).opts(xlabel="longitude (°E)", ylabel="latitude (°N)", width=width, height=height, title=f"{len(df)} new edge sites: {100 * float(siting['baseline_share']):.1f}% -> "
                                   f"{100 * float(siting['final_share']):.1f}% within {siting.attrs['budget_ms']:g} ms")


def latency_heatmap(matrix, *, width: int = 560, height: int = 480, title: str | None = None):
    """Heat map of a :func:`workbench.analyses.network.latency_matrix` result (one-way ms)."""
    _hv()
    lat_ = matrix["latency"]
    df = pd.DataFrame({"src": np.repeat(matrix["src"].values, matrix.sizes["dst"]),
                       "dst": np.tile(matrix["dst"].values, matrix.sizes["src"]),
                       "latency_ms": lat_.values.ravel(), "hops": matrix["hops"].values.ravel(),
                       "path_km": matrix["path_length"].values.ravel()})
    return df.hvplot.heatmap(x="dst", y="src", C="latency_ms", cmap="viridis", width=width, height=height,
                             hover_cols=["hops", "path_km"], rot=60, xlabel="", ylabel="", flip_yaxis=True,
                             clabel="one-way latency (ms)",
                             title=title or f"one-way latency over the link graph ({matrix.attrs.get('layer', '')})")


def circles_map(scenario, site: str, budgets_ms=(1.0, 5.0, 20.0), *, layer: str = "optical", width: int = 760,
                height: int = 560):
    """The 1 / 5 / 20 ms circles of one site over the link graph: every metro coloured by the one-way
    latency from its centre (via its access PoP and the graph) to ``site``, links drawn, unreachable grey."""
    hv = _hv()
    from . import latency as _lat
    from . import paths

    ids = scenario["site"]["site"].values.astype(str).tolist()
    if site not in ids:
        raise KeyError(f"unknown site {site!r}; e.g. {', '.join(ids[:5])}")
    j = ids.index(site)
    net = paths.Network.from_scenario(scenario, layer)
    dev = scenario["device"]
    n = dev.sizes["device"]
    pop, km = paths.access_of_points(scenario, dev["lon"].values, dev["lat"].values, np.arange(n))
    first = km * float(scenario.parameters["metro_route_factor"]) * _lat.FIBRE_DELAY_MS_PER_KM + paths.METRO_EQUIPMENT_MS
    lat_ = first + net.latency([j])[0][pop]
    edges = [0.0, *sorted(float(b) for b in budgets_ms)]
    labels = [f"<= {b:g} ms" for b in edges[1:]] + [f"> {edges[-1]:g} ms", "unreachable"]
    band = np.searchsorted(np.asarray(edges[1:]), lat_, side="left")
    band = np.where(np.isfinite(lat_), band, len(edges))
    df = pd.DataFrame({"lon": dev["lon"].values, "lat": dev["lat"].values, "name": dev["name"].values,
                       "population_m": dev["endpoints"].values / 1e6, "latency_ms": np.round(lat_, 2),
                       "circle": pd.Categorical([labels[b] for b in band], categories=labels, ordered=True)})
    palette = ["#1a9850", "#91cf60", "#fee08b", "#fc8d59", "#d73027", "#999999"]
    colours = palette[:len(labels) - 2] + ["#d73027", "#bbbbbb"]
    # one layer per circle, so each keeps its colour and the legend reads inside-out
    pts = [df[df["circle"] == lab].hvplot.scatter(x="lon", y="lat", s="population_m", scale=3, color=col, label=lab,
                                                  hover_cols=["name", "population_m", "latency_ms"], alpha=0.85)
           for lab, col in zip(labels, colours) if (df["circle"] == lab).any()]
    here = pd.DataFrame({"lon": [float(scenario["site"]["lon"].values[j])],
                         "lat": [float(scenario["site"]["lat"].values[j])], "site": [site]})
    star = here.hvplot.scatter(x="lon", y="lat", marker="star", size=300, color="black", hover_cols=["site"],
                               label=site)
    layers = ([link_segments(scenario)] if scenario["link"].sizes.get("link", 0) else []) + pts + [star]
    return hv.Overlay(layers).opts(width=width, height=height, xlabel="longitude (°E)", ylabel="latitude (°N)",
                                   legend_position="right",
                                   title=f"one-way latency to {site} over the link graph ({net.layer.name} layer)")


def save_html(obj, path, title: str = "workbench") -> None:
    """Save a HoloViews object as a self-contained HTML file (BokehJS inline; renders offline)."""
    from pathlib import Path

    import holoviews as hv
    from bokeh.resources import INLINE

    from .fileio import atomic_path

    with atomic_path(Path(path)) as tmp:
        hv.save(obj, str(tmp) + ".html", backend="bokeh", resources=INLINE, title=title)
        Path(str(tmp) + ".html").replace(tmp)
