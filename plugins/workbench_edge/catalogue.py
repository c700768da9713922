"""Model, number-format and request-class catalogues of the edge plugin, and chip look-ups.

The tables live in the repository's ``datasets/models/`` folder (installed as
``workbench_datasets/models``): ``models.csv`` (LLM and VLA architectures), ``dtypes.csv`` (bytes per
parameter of each served number format) and ``request_classes.csv`` (demand classes with their
service-level objectives). Every numeric column carries its unit in a ``name [unit]`` header or is a
dimensionless count named for what it counts; every row has a ``source`` of citation keys from
``datasets/models/SOURCES.yaml`` and a ``notes`` column.

:class:`ModelSpec` and :class:`ChipSpec` are the plain records the pure serving functions take; build
them with :func:`model_spec` and :func:`chip_spec` from an id (looked up in the catalogues) or pass
your own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from workbench import units as _units
from workbench.errors import WorkbenchError
from workbench.schema import did_you_mean

__all__ = ["ChipSpec", "EdgeError", "ModelSpec", "bytes_per_param", "chip_spec", "dtype_table", "load_models",
           "load_request_classes", "model_spec", "models_path", "request_class"]


class EdgeError(WorkbenchError, ValueError):
    """Bad input to the edge-inference plugin (unknown model, chip, dtype, infeasible configuration)."""


def models_path(name: str = "") -> Path:
    """Path of a file in the shipped ``datasets/models`` folder."""
    from workbench.datasets import dataset_path

    return dataset_path(f"models/{name}" if name else "models")


def _read(name: str) -> tuple[pd.DataFrame, dict[str, str | None]]:
    path = models_path(name)
    if not path.exists():
        raise EdgeError(f"{path}: catalogue file missing (the workbench_datasets package is incomplete)")
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    units: dict[str, str | None] = {}
    cols = []
    for header in raw.columns:
        col, unit = _units.split_header(header)
        if unit is not None:
            try:
                _units.dimension(unit)
            except WorkbenchError as err:
                raise EdgeError(f"{path}: column {header!r}: {err}") from None
        units[col] = unit
        cols.append(col)
    raw.columns = cols
    return raw, units


_TEXT = {"id", "name", "kind", "dtypes", "source", "notes", "description", "model", "dtype", "flops_column"}


def _to_dataset(frame: pd.DataFrame, units: dict, dim: str, path: Path) -> xr.Dataset:
    data = {}
    for col in frame.columns:
        if col == "id":
            continue
        if col in _TEXT:
            data[col] = ((dim,), frame[col].to_numpy(dtype=object), {"long_name": col.replace("_", " ")})
            continue
        values = pd.to_numeric(frame[col].replace("", np.nan), errors="coerce").to_numpy(dtype=float)
        bad = np.isnan(values) & (frame[col].to_numpy() != "")
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise EdgeError(f"{path}: line {row + 2}, column {col!r}: expected a number, got "
                            f"{frame[col].iloc[row]!r}")
        data[col] = ((dim,), values, {"units": units.get(col) or "1", "long_name": col.replace("_", " ")})
    key = "id" if "id" in frame.columns else frame.columns[0]
    ds = xr.Dataset(data, coords={dim: frame[key].to_numpy(dtype=object)})
    ds.attrs["source_file"] = str(path)
    return ds


def _cached(key: str, build) -> xr.Dataset:
    """``build()`` read-only, cached on the current plugin manager (no module-level cache: issue 9)."""
    from workbench.model import read_only
    from workbench.plugins import get_plugin_manager

    return get_plugin_manager().cached(f"workbench_edge.{key}", lambda: read_only(build()))


def _models() -> xr.Dataset:
    """The shared, read-only model catalogue (internal readers; :func:`load_models` hands out copies)."""
    def build():
        frame, units = _read("models.csv")
        return _to_dataset(frame, units, "model", models_path("models.csv"))

    return _cached("models", build)


def _dtypes() -> xr.Dataset:
    def build():
        frame, units = _read("dtypes.csv")
        frame = frame.rename(columns={"dtype": "id"})
        return _to_dataset(frame, units, "dtype", models_path("dtypes.csv"))

    return _cached("dtypes", build)


def _request_classes() -> xr.Dataset:
    def build():
        frame, units = _read("request_classes.csv")
        return _to_dataset(frame, units, "request_class", models_path("request_classes.csv"))

    return _cached("request_classes", build)


def load_models() -> xr.Dataset:
    """The model catalogue as an ``xr.Dataset`` over ``model`` (ids such as ``llama-3.1-70b``).

    Read once per plugin manager; each call returns a shallow copy with read-only arrays, so a caller
    changing it never changes what the next caller gets.

    Returns
    -------
    xr.Dataset
        ``total_params``, ``active_params`` [1] (parameters), ``layers``, ``hidden``, ``heads``,
        ``kv_heads``, ``head_dim``, ``kv_latent_dim`` (MLA latent width, NaN for GQA/MHA),
        ``n_experts``, ``experts_per_token``, ``vocab``, ``max_context`` [1] (tokens),
        ``quality_mmlu_cot`` [1] (fraction), and text ``name``, ``kind``, ``dtypes``, ``source``, ``notes``.
    """
    return _models().copy(deep=False)


def dtype_table() -> xr.Dataset:
    """Served number formats over ``dtype``: ``bytes_per_param`` [B] and the chip ``flops_column`` (a copy)."""
    return _dtypes().copy(deep=False)


def load_request_classes() -> xr.Dataset:
    """Request classes over ``request_class``: model, token lengths, SLOs [ms] and per-endpoint rate (a copy)."""
    return _request_classes().copy(deep=False)


def _choices(ids) -> str:
    return ", ".join(map(str, ids))


@dataclass(frozen=True)
class ModelSpec:
    """Architecture of a served model (all counts dimensionless).

    Attributes
    ----------
    id : str
    total_params, active_params : float
        Parameters stored, and used per token (equal for dense models) [1].
    layers, hidden, heads, kv_heads, head_dim : float
        Transformer shape; ``kv_heads`` NaN for MLA models.
    kv_latent_dim : float
        Multi-head latent attention: elements cached per layer per token (NaN for GQA/MHA).
    n_experts, experts_per_token : float
        Routed experts and experts used per token (NaN for dense models).
    quality : float
        Quality proxy [1] (MMLU CoT accuracy as a fraction; NaN if unknown).
    dtypes : tuple of str
        Number formats the model is served in.
    """

    id: str
    total_params: float
    active_params: float
    layers: float
    hidden: float
    heads: float
    kv_heads: float
    head_dim: float
    kv_latent_dim: float = math.nan
    n_experts: float = math.nan
    experts_per_token: float = math.nan
    quality: float = math.nan
    dtypes: tuple[str, ...] = ("bf16", "fp8", "int8", "fp4")
    kind: str = "dense"

    @property
    def is_moe(self) -> bool:
        return bool(np.isfinite(self.n_experts) and self.n_experts > 1)


def model_spec(model: str | ModelSpec) -> ModelSpec:
    """A :class:`ModelSpec` from a catalogue id (or pass one through).

    Raises
    ------
    EdgeError
        For an unknown id; the message lists the known ids.
    """
    if isinstance(model, ModelSpec):
        return model
    cat = _models()
    ids = cat["model"].values.tolist()
    if model not in ids:
        raise EdgeError(f"unknown model {model!r}{did_you_mean(model, ids)}; known models ({models_path('models.csv')}): {_choices(ids)}")
    row = cat.sel(model=model)
    num = {f.name: float(row[f.name]) for f in fields(ModelSpec)
           if f.name in row and f.name not in ("id", "dtypes", "kind")}
    return ModelSpec(id=model, quality=float(row["quality_mmlu_cot"]),
                     dtypes=tuple(d.strip() for d in str(row["dtypes"].item()).split(";") if d.strip()),
                     kind=str(row["kind"].item()), **num)


@dataclass(frozen=True)
class ChipSpec:
    """One accelerator type (values per chip, canonical units).

    Attributes
    ----------
    id : str
    flops : dict
        Dense throughput per number format [FLOP/s] (``{"bf16": ..., "fp8": ..., "int8": ..., "fp4": ...}``;
        NaN = not supported).
    hbm : float
        Memory capacity [B].
    hbm_bw : float
        Memory bandwidth [B/s].
    tdp : float
        Thermal design power [W].
    scale_up_bw : float
        Scale-up bandwidth, bidirectional aggregate per chip [B/s] (NaN = unknown).
    """

    id: str
    flops: dict
    hbm: float
    hbm_bw: float
    tdp: float
    scale_up_bw: float = math.nan

    def flops_for(self, dtype: str) -> float:
        """Dense throughput for ``dtype`` [FLOP/s]; raise :class:`EdgeError` if unsupported."""
        value = float(self.flops.get(dtype, math.nan))
        if not (np.isfinite(value) and value > 0):
            known = [d for d, v in self.flops.items() if np.isfinite(v) and v > 0]
            raise EdgeError(f"chip {self.id!r} has no {dtype} throughput in its catalogue row "
                            f"(supported: {_choices(known) or 'none'})")
        return value


def chip_spec(chip: str | ChipSpec, chips: xr.Dataset | None = None) -> ChipSpec:
    """A :class:`ChipSpec` from a chip id in ``chips`` (default: ``wb.load_dataset("chips")``).

    Raises
    ------
    EdgeError
        For an unknown id (the message lists the catalogue's ids).
    """
    if isinstance(chip, ChipSpec):
        return chip
    if chips is None:
        import workbench as wb

        chips = wb.load_dataset("chips")
    ids = chips["chip"].values.tolist()
    if chip not in ids:
        raise EdgeError(f"unknown chip {chip!r}{did_you_mean(chip, ids)}; known chips: {_choices(ids)}")
    row = chips.sel(chip=chip)

    def val(name):
        return float(row[name]) if name in row else math.nan

    dtypes = _dtypes()
    flops = {d: val(str(c)) for d, c in zip(dtypes["dtype"].values, dtypes["flops_column"].values, strict=True)}
    return ChipSpec(id=chip, flops=flops, hbm=val("hbm"), hbm_bw=val("hbm_bw"), tdp=val("tdp"),
                    scale_up_bw=val("scale_up_bw"))


def bytes_per_param(dtype: str) -> float:
    """Bytes per stored value of a number format [B] (``bf16`` 2, ``fp8``/``int8`` 1, ``fp4`` 0.53125)."""
    table = _dtypes()
    names = table["dtype"].values.tolist()
    if dtype not in names:
        raise EdgeError(f"unknown dtype {dtype!r}; known: {_choices(names)} ({models_path('dtypes.csv')})")
    return float(table["bytes_per_param"].sel(dtype=dtype))


def request_class(name: str) -> dict:
    """One request class as a plain dict (SLOs in [ms], rate in [request/s])."""
    rc = _request_classes()
    ids = rc["request_class"].values.tolist()
    if name not in ids:
        raise EdgeError(f"unknown request class {name!r}; known: {_choices(ids)} "
                        f"({models_path('request_classes.csv')})")
    row = rc.sel(request_class=name)
    return {k: (row[k].item() if row[k].dtype == object else float(row[k])) for k in rc.data_vars} | {"id": name}
