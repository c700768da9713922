"""The attribute schema: every component kind, attribute, parameter, choice and unit, core and plugins.

The schema is built by the plugin manager (:meth:`workbench.plugins.WorkbenchPluginManager.schema`)
from the registration hooks and handed to the model; this module never imports the plugin
manager, so ``workbench.model`` imports no plugin (the import cycle model -> plugins -> schema ->
plugins is gone).
"""

from __future__ import annotations

import csv
import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from .errors import PluginError, UnitError
from .plugin_types import AttributeSpec, ChoiceSpec, ComponentKind, ParameterSpec
from .units import UnitRegistry, core_registry

#: Kinds every scenario has, in display order.
CORE_KINDS = ("site", "link", "chip", "inventory", "agent", "device")

_CORE_DESCRIPTIONS = {
    "site": "Places with compute: national hubs, DC clusters, regional DCs, metro and base-station edge",
    "link": "Transmission paths between sites",
    "chip": "Accelerator types (catalogue)",
    "inventory": "How many chips of each type are installed at each site",
    "agent": "Operations and application agents",
    "device": "Populations of endpoints of one class at one place",
}
_CORE_DIMS = {"inventory": ("site", "chip")}

#: Attributes renamed since earlier releases: (kind, old name) -> (new name, why). A file still using
#: the old name is an error naming the new one (never silently accepted under either name).
RENAMED_ATTRIBUTES = {
    ("inventory", "count"): ("installed", "'count' shadowed the xarray method Dataset.count"),
    ("device", "count"): ("endpoints", "'count' shadowed the xarray method Dataset.count"),
}

#: Scenario-wide parameters of the core (the builtins plugin yields them through ``workbench_parameters``).
CORE_PARAMETERS = (
    ParameterSpec("route_factor", "1", 1.5,
                  "Fibre route length / great-circle distance where a link has no length "
                  "(assumed default; Bozkurt et al. 2018, arXiv 1811.10737: 1.3 conduit-optimal, "
                  "2.1 rule of thumb); range: >= 1, a route is never shorter than the great circle; "
                  "<= 10 assumed", min=1.0, max=10.0),
    ParameterSpec("metro_route_factor", "1", 1.5,
                  "Route factor of metro access fibre from a device to a site (assumed, as above); range as above",
                  min=1.0, max=10.0),
    ParameterSpec("cny_per_usd", "CNY/USD", math.nan,
                  "Exchange rate used to convert inputs given in USD to CNY attributes and back; NaN = not set, "
                  "then USD and CNY never convert (no rate is ever implied); range: > 0", min=0.0, exclusive="min"),
    ParameterSpec("cny_per_eur", "CNY/EUR", math.nan,
                  "Exchange rate used to convert inputs given in EUR; NaN = not set (no conversion); range: > 0",
                  min=0.0, exclusive="min"),
)


def _number(text: str) -> float | None:
    return float(text) if text.strip() else None


def core_kinds() -> list[ComponentKind]:
    """Read the core kinds from ``workbench/data/core_schema.csv`` (one row per attribute)."""
    rows: dict[str, list[AttributeSpec]] = {k: [] for k in CORE_KINDS}
    with resources.files("workbench.data").joinpath("core_schema.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            choices = tuple(row["choices"].split("|")) if row["choices"] else None
            if choices and row["dtype"] == "int":
                choices = tuple(int(c) for c in choices)
            rows[row["kind"]].append(AttributeSpec(
                kind=row["kind"], name=row["attribute"], dtype=row["dtype"], unit=row["unit"],
                default=row["default"] or None, description=row["description"],
                required=row["required"] == "true", choices=choices,
                min=_number(row["min"]), max=_number(row["max"]), exclusive=row["exclusive"],
                varies_in_time=row.get("varies_in_time") == "true"))
    return [ComponentKind(k, _CORE_DESCRIPTIONS[k], _CORE_DIMS.get(k, (k,)), tuple(v)) for k, v in rows.items()]


@dataclass(frozen=True)
class Schema:
    """Kinds, attributes, scenario parameters, choice delays and the unit registry of one plugin manager."""

    kinds: dict[str, ComponentKind]
    attributes: dict[str, dict[str, AttributeSpec]]
    parameters: dict[str, ParameterSpec] = field(default_factory=dict)
    choices: dict[str, ChoiceSpec] = field(default_factory=dict)
    units: UnitRegistry = field(default_factory=core_registry)

    def kind(self, name: str) -> ComponentKind:
        try:
            return self.kinds[name]
        except KeyError:
            raise KeyError(f"unknown component kind {name!r}{did_you_mean(name, self.kinds)}; known kinds: "
                           f"{', '.join(self.kinds)}") from None

    def attrs(self, kind: str) -> dict[str, AttributeSpec]:
        self.kind(kind)
        return self.attributes[kind]

    def parameter_defaults(self) -> dict[str, float]:
        return {name: spec.default for name, spec in self.parameters.items()}

    def exchange_rates(self, parameters: Mapping[str, Any]) -> dict[str, float]:
        """Currency -> value in CNY from the scenario parameters ``cny_per_<currency>`` that are set."""
        rates = {}
        for name, value in parameters.items():
            if name.startswith("cny_per_"):
                try:
                    v = float(value)
                except (TypeError, ValueError):
                    continue
                if math.isfinite(v) and v > 0:
                    rates[name[len("cny_per_"):].upper()] = v
        return rates

    def choice_delay(self, kind: str, attribute: str, value: str) -> float | None:
        """One-way delay [ms] a plugin declared for a choice value (None if it declared none)."""
        spec = self.choices.get(f"{kind}.{attribute}={value}")
        return spec.delay if spec is not None else None

    def choice_delays(self, kind: str, attribute: str) -> dict[str, float]:
        """Every plugin-declared delay [ms] of one attribute's choices, value -> delay."""
        prefix = f"{kind}.{attribute}="
        return {k[len(prefix):]: s.delay for k, s in self.choices.items() if k.startswith(prefix) and s.delay is not None}

    def to_dataframe(self):
        """The whole schema as a table: kind, attribute, dtype, unit, default, range, required, varies_in_time,
        provided_by."""
        import pandas as pd

        return pd.DataFrame([
            {"kind": a.kind, "attribute": a.name, "dtype": a.dtype, "unit": a.unit,
             "default": a.default_value() if not a.required else None, "required": a.required,
             "choices": "|".join(map(str, a.choices)) if a.choices else "", "range": a.range_text(),
             "varies_in_time": a.varies_in_time, "description": a.description, "provided_by": a.provided_by}
            for attrs in self.attributes.values() for a in attrs.values()])


def did_you_mean(name: str, candidates) -> str:
    """``"; did you mean 'h100-sxm'?"`` for the closest candidates, or ``""``."""
    import difflib

    names = [str(c) for c in candidates]
    close = difflib.get_close_matches(str(name), names, n=3, cutoff=0.6)
    if not close:
        close = [c for c in names if str(name).lower() in c.lower() or c.lower() in str(name).lower()][:3]
    return f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""


def build_schema(kinds: Mapping[str, ComponentKind], attributes: Mapping[str, AttributeSpec],
                 parameters: Mapping[str, ParameterSpec] = None, choices: Mapping[str, ChoiceSpec] = None,
                 units: UnitRegistry | None = None) -> Schema:
    """Assemble a :class:`Schema` from collected specs (the plugin manager calls this).

    Checks what only the whole picture shows: attributes of unknown kinds, redefinitions, units the
    registry does not know (plugin units included), choices for unknown or choice-less attributes.
    """
    units = units or core_registry()
    out: dict[str, dict[str, AttributeSpec]] = {}
    for name, kind in kinds.items():
        out[name] = {a.name: (a if a.provided_by else dataclasses.replace(a, provided_by=kind.provided_by))
                     for a in kind.attributes}
    for key, spec in attributes.items():
        if spec.kind not in kinds:
            raise PluginError(f"{spec.provided_by} adds attribute {spec.name!r} to unknown kind {spec.kind!r}; "
                              f"known kinds: {', '.join(kinds)}")
        if spec.name in out[spec.kind]:
            other = out[spec.kind][spec.name].provided_by
            raise PluginError(f"{spec.provided_by} redefines attribute {key!r} already provided by {other}")
        out[spec.kind][spec.name] = spec
    for kind_attrs in out.values():
        for a in kind_attrs.values():
            if a.dtype in ("float", "int"):
                try:
                    units.units(a.unit or "1")
                except UnitError as err:
                    raise PluginError(f"{a.provided_by}: attribute {a.kind}.{a.name}: {err}") from None
    params = dict(parameters or {})
    for p in params.values():
        try:
            units.units(p.unit or "1")
        except UnitError as err:
            raise PluginError(f"{p.provided_by}: parameter {p.name}: {err}") from None
    choices = dict(choices or {})
    for c in choices.values():
        attrs = out.get(c.kind, {})
        spec = attrs.get(c.attribute)
        if spec is None or spec.choices is None or spec.dtype != "str":
            raise PluginError(f"{c.provided_by} adds choice {c.value!r} to {c.kind}.{c.attribute}, which is not a text "
                              "attribute with a list of choices")
        if c.value in spec.choices:
            raise PluginError(f"{c.provided_by} adds choice {c.value!r} to {c.kind}.{c.attribute}, which already has it "
                              f"({spec.provided_by})")
        out[c.kind][c.attribute] = dataclasses.replace(spec, choices=(*spec.choices, c.value))
    ordered = {k: kinds[k] for k in CORE_KINDS if k in kinds}
    ordered.update({k: v for k, v in kinds.items() if k not in ordered})
    return Schema(ordered, {k: out[k] for k in ordered}, params, choices, units)

