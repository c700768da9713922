"""Human-readable summaries of analysis results, the same shape for every analysis.

``workbench analyze NAME`` prints :func:`summarize`: a head line naming the analysis and its
scenario, then the analysis's own summary (``AnalysisSpec.summary(result)`` or the result's
``attrs["summary_text"]``) or, for an analysis that gives none, one line per variable: scalars with
their value and unit, arrays with their dimensions and range (never a truncated repr).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

#: Most variables listed by the generic summary (the rest are counted).
MAX_VARIABLES = 24


def _fmt(value: float) -> str:
    if not np.isfinite(value):
        return str(value)
    a = abs(value)
    return f"{value:,.0f}" if a >= 1e4 and a < 1e15 and value == round(value) else f"{value:.4g}"


#: Units shown with an SI prefix chosen for the magnitude (``4e11 bit/s`` -> ``400 Gbit/s``).
_SCALABLE = ("bit/s", "B/s", "B", "W", "J", "Wh", "FLOP/s", "OP/s", "FLOP", "token/s", "request/s", "bit")
_PREFIXES = ((1e18, "E"), (1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"))


def human_scale(magnitude: float, units: str | None) -> tuple[float, str | None]:
    """The divisor and unit that show ``magnitude`` in human units (``(1e9, "Gbit/s")``), or ``(1, units)``."""
    if units not in _SCALABLE or not np.isfinite(magnitude):
        return 1.0, units
    for factor, prefix in _PREFIXES:
        if abs(magnitude) >= factor:
            return factor, prefix + units
    return 1.0, units


def describe_variable(name: str, var: xr.DataArray) -> str:
    """One line: ``name [units]: value`` for a scalar, ``name [units] (dim=n, ...): min .. max`` for an array."""
    units = var.attrs.get("units")
    long_name = var.attrs.get("long_name", "")
    tail = f"  ({long_name})" if long_name and long_name != name else ""
    dims = ", ".join(f"{d}={n}" for d, n in var.sizes.items())
    if var.dtype.kind in "fiu":
        values = np.asarray(var.values, dtype=float)
        finite_all = values[np.isfinite(values)]
        scale, units = human_scale(float(np.max(np.abs(finite_all))) if finite_all.size else np.nan, units)
        values = values / scale
    else:
        values = None
    label = f"{name} [{units}]" if units not in (None, "") else name
    if var.dtype.kind == "b":
        values = np.asarray(var.values, dtype=float)
    if values is not None:
        if values.size == 1:
            return f"{label}: {_fmt(float(values.ravel()[0]))}{tail}"
        finite = values[np.isfinite(values)]
        if finite.size == 0:
            return f"{label} ({dims}): all NaN{tail}"
        nan = values.size - finite.size
        extra = f", {nan} NaN" if nan else ""
        return f"{label} ({dims}): {_fmt(float(finite.min()))} .. {_fmt(float(finite.max()))}, " \
               f"mean {_fmt(float(finite.mean()))}{extra}{tail}"
    values = np.asarray(var.values, dtype=object).ravel()
    if values.size == 1:
        return f"{label}: {values[0]}{tail}"
    shown = ", ".join(map(str, values[:5])) + (", ..." if values.size > 5 else "")
    return f"{label} ({dims}): {shown}{tail}"


def summarize(result: Any, name: str = "", spec: Any = None) -> str:
    """A few lines describing an analysis result (see the module docstring)."""
    if not isinstance(result, xr.Dataset):
        return f"{name or 'analysis'}: {result!r}"
    scenario = result.attrs.get("scenario", "")
    head = f"{name or result.attrs.get('analysis', 'analysis')}" + (f" on {scenario}" if scenario else "")
    custom = getattr(spec, "summary", None)
    if custom is not None:
        return f"{head}\n{custom(result)}"
    text = result.attrs.get("summary_text")
    if text:
        return f"{head}\n{text}"
    lines = [head + ": " + ", ".join(f"{d}={n}" for d, n in result.sizes.items())]
    variables = list(result.data_vars)
    lines += ["  " + describe_variable(str(v), result[v]) for v in variables[:MAX_VARIABLES]]
    if len(variables) > MAX_VARIABLES:
        lines.append(f"  ... and {len(variables) - MAX_VARIABLES} more variables (--json or --out for all)")
    return "\n".join(lines)
