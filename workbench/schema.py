"""The attribute schema: every component kind and attribute, from the core and from plugins."""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass
from importlib import resources

from .errors import PluginError
from .plugin_types import AttributeSpec, ComponentKind

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
                required=row["required"] == "true", choices=choices))
    return [ComponentKind(k, _CORE_DESCRIPTIONS[k], _CORE_DIMS.get(k, (k,)), tuple(v)) for k, v in rows.items()]


@dataclass(frozen=True)
class Schema:
    kinds: dict[str, ComponentKind]
    attributes: dict[str, dict[str, AttributeSpec]]

    def kind(self, name: str) -> ComponentKind:
        try:
            return self.kinds[name]
        except KeyError:
            raise KeyError(f"unknown component kind {name!r}; known kinds: {', '.join(self.kinds)}") from None

    def attrs(self, kind: str) -> dict[str, AttributeSpec]:
        self.kind(kind)
        return self.attributes[kind]

    def to_dataframe(self):
        """The whole schema as a table: kind, attribute, dtype, unit, default, required, provided_by."""
        import pandas as pd

        return pd.DataFrame([
            {"kind": a.kind, "attribute": a.name, "dtype": a.dtype, "unit": a.unit,
             "default": a.default_value() if not a.required else None, "required": a.required,
             "choices": "|".join(map(str, a.choices)) if a.choices else "",
             "description": a.description, "provided_by": a.provided_by}
            for attrs in self.attributes.values() for a in attrs.values()])


@functools.lru_cache(maxsize=1)
def get_schema() -> Schema:
    """Build the schema from the ``workbench_component_kinds`` / ``_attributes`` hooks (cached)."""
    from .plugins import collect

    kinds = dict(collect("component_kinds"))
    attributes: dict[str, dict[str, AttributeSpec]] = {}
    for name, kind in kinds.items():
        attributes[name] = {a.name: (a if a.provided_by else _stamp(a, kind.provided_by)) for a in kind.attributes}
    for key, spec in collect("component_attributes").items():
        if spec.kind not in kinds:
            raise PluginError(f"{spec.provided_by} adds attribute {spec.name!r} to unknown kind {spec.kind!r}; "
                              f"known kinds: {', '.join(kinds)}")
        if spec.name in attributes[spec.kind]:
            other = attributes[spec.kind][spec.name].provided_by
            raise PluginError(f"{spec.provided_by} redefines attribute {key!r} already provided by {other}")
        attributes[spec.kind][spec.name] = spec
    ordered = {k: kinds[k] for k in CORE_KINDS if k in kinds}
    ordered.update({k: v for k, v in kinds.items() if k not in ordered})
    return Schema(ordered, {k: attributes[k] for k in ordered})


def _stamp(spec: AttributeSpec, provided_by: str) -> AttributeSpec:
    import dataclasses

    return dataclasses.replace(spec, provided_by=provided_by)
