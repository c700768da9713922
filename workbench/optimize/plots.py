"""Plots of study results (hvplot, offline) and the ``ds.study`` accessor.

In a notebook call ``hv.extension("bokeh", inline=True)`` before importing ``hvplot`` so plots
render offline (STACK-NOTES 6); when saving HTML use ``resources=bokeh.resources.INLINE``. Maps
are lon/lat scatter plots (no tile servers).

>>> res.study.pareto("annual_cost", "mean_latency", c="annual_co2")   # doctest: +SKIP
>>> res.study.convergence()                                            # doctest: +SKIP
>>> res.study.placement_map(solution=3, scenario=sc)                   # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

__all__ = ["StudyAccessor", "convergence_plot", "front_frame", "pareto_plot", "placement_map"]


def _label(ds: xr.Dataset, name: str) -> str:
    a = ds[name].attrs
    units = a.get("units", "")
    return f"{a.get('long_name', name)} [{units}]" if units else a.get("long_name", name)


def front_frame(ds: xr.Dataset) -> pd.DataFrame:
    """The final solutions as a DataFrame: objectives (un-negated), feasibility and shares if present."""
    cols = [str(o) for o in ds["objective"].values]
    extra = [c for c in ("feasible", "west_share", "edge_share", "served_share", "total_chips") if c in ds]
    frame = ds[cols + extra].to_dataframe()
    return frame.reset_index()


def pareto_plot(ds: xr.Dataset, x: str | None = None, y: str | None = None, c: str | None = None,
                feasible_only: bool = True, **kwargs):
    """Scatter of the front: objective ``x`` vs ``y``, coloured by ``c`` (an objective or a share).

    Defaults: the first two objectives, coloured by the third objective (or none).
    """
    import hvplot.pandas  # noqa: F401

    objs = [str(o) for o in ds["objective"].values]
    x = x or objs[0]
    y = y or (objs[1] if len(objs) > 1 else objs[0])
    if c is None and len(objs) > 2:
        c = objs[2]
    frame = front_frame(ds)
    if feasible_only and "feasible" in frame:
        frame = frame[frame["feasible"]]
    hover = [col for col in frame.columns if col not in ("feasible",)]
    opts = dict(x=x, y=y, xlabel=_label(ds, x), ylabel=_label(ds, y), hover_cols=hover, size=60,
                title=f"Pareto front: {ds.attrs.get('study', '')}", height=380, width=560)
    if c is not None:
        opts.update(c=c, cmap="viridis", clabel=_label(ds, c) if c in ds else c, colorbar=True)
    opts.update(kwargs)
    return frame.hvplot.scatter(**opts)


def convergence_plot(ds: xr.Dataset, **kwargs):
    """Hypervolume of the feasible front per generation (fixed reference point, see attrs)."""
    import hvplot.xarray  # noqa: F401

    units = ds["hypervolume"].attrs.get("units", "")
    opts = dict(x="generation", title=f"Convergence: {ds.attrs.get('study', '')}",
                ylabel=f"hypervolume [{units}]" if units else "hypervolume", xlabel="generation",
                height=300, width=560)
    opts.update(kwargs)
    return ds["hypervolume"].hvplot.line(**opts)


def placement_map(ds: xr.Dataset, solution: int, scenario=None, **kwargs):
    """Map of one placement solution: sites sized by accelerators, coloured by chip type.

    Device groups of ``scenario`` (if given) are drawn as grey points sized by population.
    Needs the ``chips`` / ``site_lon`` / ``site_lat`` variables that the placement space adds.
    """
    import holoviews as hv
    import hvplot.pandas  # noqa: F401

    if "chips" not in ds:
        raise KeyError("this result has no 'chips' per site: placement_map needs a placement study result")
    sol = ds.sel(solution=solution)
    sites = pd.DataFrame({"site": sol["site"].values, "lon": sol["site_lon"].values, "lat": sol["site_lat"].values,
                          "tier": sol["site_tier"].values, "chips": sol["chips"].values,
                          "chip_type": sol["chip_type"].values})
    sites["size"] = 15 + 400 * np.sqrt(sites["chips"] / max(float(sites["chips"].max()), 1.0))
    used = sites[sites["chips"] > 0]
    unused = sites[sites["chips"] == 0]
    objs = ", ".join(f"{o} = {float(sol[str(o)]):.4g} {ds[str(o)].attrs.get('units', '')}"
                     for o in ds["objective"].values)
    layers = []
    if scenario is not None:
        dev = scenario["device"]
        people = pd.DataFrame({"lon": dev["lon"].values, "lat": dev["lat"].values, "count": dev["endpoints"].values,
                               "name": dev["device"].values})
        people["size"] = 2 + 60 * np.sqrt(people["count"] / people["count"].max())
        layers.append(people.hvplot.points(x="lon", y="lat", s="size", color="lightgrey", alpha=0.6,
                                           hover_cols=["name", "count"], label="population"))
    layers.append(unused.hvplot.points(x="lon", y="lat", color="black", marker="x", s=30, hover_cols=["site", "tier"],
                                       label="candidate site (unused)"))
    layers.append(used.hvplot.points(x="lon", y="lat", s="size", by="chip_type", alpha=0.8,
                                     hover_cols=["site", "tier", "chips", "chip_type"]))
    overlay = hv.Overlay(layers).opts(
        title=f"solution {solution}: {objs}", xlabel="longitude [degree_east]", ylabel="latitude [degree_north]",
        height=520, width=700, data_aspect=1, legend_position="right", **kwargs)
    return overlay


@xr.register_dataset_accessor("study")
class StudyAccessor:
    """``ds.study``: plots and helpers for study results."""

    def __init__(self, ds: xr.Dataset) -> None:
        self._ds = ds

    def front(self) -> pd.DataFrame:
        return front_frame(self._ds)

    def pareto(self, x: str | None = None, y: str | None = None, c: str | None = None, **kwargs):
        return pareto_plot(self._ds, x, y, c, **kwargs)

    def convergence(self, **kwargs):
        return convergence_plot(self._ds, **kwargs)

    def placement_map(self, solution: int, scenario=None, **kwargs):
        return placement_map(self._ds, solution, scenario, **kwargs)

    def knee(self) -> int:
        """Index of the feasible solution nearest the ideal point after min-max normalisation.

        A simple, documented pick of a "balanced" solution (not a unique definition of a knee).
        """
        ds = self._ds
        F = ds["F"].values.copy()
        senses = ds["objective_sense"].values
        F[:, senses == "max"] *= -1
        feas = ds["feasible"].values
        if not feas.any():
            raise ValueError("no feasible solution")
        Ff = F[feas]
        lo, hi = Ff.min(axis=0), Ff.max(axis=0)
        norm = (Ff - lo) / np.where(hi > lo, hi - lo, 1.0)
        best = int(np.argmin(np.sqrt((norm ** 2).sum(axis=1))))
        return int(ds["solution"].values[feas][best])
