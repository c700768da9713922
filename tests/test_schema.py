"""The attribute schema: core kinds and units (DESIGN.md section 3), spec validation, sources of defaults."""

import math
import re

import numpy as np
import pytest

import workbench as wb
from workbench import hookimpl, units
from workbench.errors import PluginError
from workbench.model import PARAMETERS
from workbench.plugin_types import AttributeSpec, ComponentKind
from workbench.schema import CORE_KINDS, core_kinds
from workbench.testing import plugin_manager

# DESIGN.md section 3: the core attributes and their canonical units
DESIGN_UNITS = {
    ("site", "lon"): "degree_east", ("site", "lat"): "degree_north", ("site", "pue"): "1",
    ("site", "power_price"): "CNY/kWh", ("site", "carbon_intensity"): "kg/kWh", ("site", "capacity"): "W",
    ("link", "length"): "km", ("link", "capacity"): "bit/s",
    ("chip", "bf16_flops"): "FLOP/s", ("chip", "hbm"): "B", ("chip", "hbm_bw"): "B/s", ("chip", "tdp"): "W",
    ("chip", "scale_up_bw"): "B/s", ("chip", "price"): "USD",
    ("inventory", "installed"): "1",
    ("device", "endpoints"): "1", ("device", "latency_budget"): "ms", ("device", "on_device_flops"): "FLOP/s",
    ("device", "demand"): "request/s", ("device", "spread"): "km",
}
REQUIRED = {"site": {"lon", "lat"}, "link": {"src", "dst"}, "chip": {"bf16_flops", "hbm", "hbm_bw", "tdp"},
            "device": {"lon", "lat", "endpoints"}, "inventory": set(), "agent": set()}
# A non-zero numeric default is a modelling choice: its description must name its source or say "assumed".
# Heuristic markers of a source: a FIGURES.md section, a URL, a paper (et al., arXiv), a citation tag
# ([P] primary, [S] secondary, [W] weak, [D] derived, as in FIGURES.md), an issuing body or a named document.
SOURCED = re.compile(r"FIGURES|assumed|https?://|et al\.|arXiv|\[[PSWD]\]|NDRC|MEE|MIIT|ITU|3GPP|IEEE|"
                     r"\bplan\b|standard|datasheet", re.IGNORECASE)


def test_core_kinds_dims_and_order(fresh_plugin_manager):
    schema = wb.get_schema()
    assert tuple(schema.kinds)[:len(CORE_KINDS)] == CORE_KINDS
    assert schema.kind("inventory").dims == ("site", "chip")
    assert all(schema.kind(k).dims == (k,) for k in CORE_KINDS if k != "inventory")


def test_core_units_match_the_design(fresh_plugin_manager):
    schema = wb.get_schema()
    got = {key: schema.attrs(key[0])[key[1]].unit for key in DESIGN_UNITS}
    assert got == DESIGN_UNITS


def test_required_attributes(fresh_plugin_manager):
    schema = wb.get_schema()
    for kind, names in REQUIRED.items():
        assert {n for n, a in schema.attrs(kind).items() if a.required} == names, kind


def test_every_core_attribute_is_well_formed():
    for kind in core_kinds():
        for a in kind.attributes:
            assert a.description, f"{kind.name}.{a.name} has no description"
            if a.dtype in ("float", "int"):
                units.dimension(a.unit or "1")  # raises UnitError for an unknown unit
            default = a.default_value()
            if a.choices and not a.required and a.default is not None:
                assert default in a.choices, f"{kind.name}.{a.name}: default {default!r} not in {a.choices}"
            if a.required:
                assert a.default is None, f"{kind.name}.{a.name} is required and has a default"


def test_non_zero_defaults_cite_a_source(fresh_plugin_manager):
    # project rule: every default constant carries its unit and its source (or says 'assumed')
    unsourced = []
    for attrs in wb.get_schema().attributes.values():
        for a in attrs.values():
            if a.dtype == "float" and not a.required:
                d = a.default_value()
                if not math.isnan(d) and d != 0 and not SOURCED.search(a.description):
                    unsourced.append(f"{a.kind}.{a.name} = {d} {a.unit}")
    unsourced += [f"parameter {k} = {v[2]}" for k, v in PARAMETERS.items()
                  if not math.isnan(v[2]) and not SOURCED.search(v[3])]  # NaN = not set
    assert not unsourced, unsourced


def test_installed_plugins_defaults_cite_a_source():
    # the same rule for every attribute the installed (built-in and third-party) plugins add
    with plugin_manager(entrypoints=True):
        attrs = [a for kind in wb.get_schema().attributes.values() for a in kind.values()]
    bad = [f"{a.kind}.{a.name} ({a.provided_by})" for a in attrs
           if a.dtype == "float" and not a.required and not math.isnan(a.default_value())
           and a.default_value() != 0 and not SOURCED.search(a.description)]
    assert not bad, bad


def test_schema_table_lists_provenance(fresh_plugin_manager):
    table = wb.get_schema().to_dataframe()
    assert {"kind", "attribute", "dtype", "unit", "default", "required", "description",
            "provided_by"} <= set(table.columns)
    version = wb.__version__
    assert set(table["provided_by"]) == {f"workbench.builtins {version}"}
    pue = table[(table.kind == "site") & (table.attribute == "pue")].iloc[0]
    assert (pue.unit, pue.default) == ("1", 1.3)  # NDRC 2021 target for large DCs (FIGURES 1.2)


def test_long_name_is_the_first_clause_of_the_description():
    a = AttributeSpec("site", "pue", "float", "1", 1.3, "Power usage effectiveness; default 1.3 (FIGURES 1.2)")
    assert a.long_name == "Power usage effectiveness"
    assert AttributeSpec("site", "x_y", "str").long_name == "x_y"


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"kind": "site", "name": "Bad Name", "dtype": "float", "unit": "1"}, "attribute name 'Bad Name' is invalid"),
    ({"kind": "site", "name": "x", "dtype": "complex", "unit": "1"}, "dtype 'complex' not in"),
    ({"kind": "site", "name": "x", "dtype": "float", "unit": "10**10**10 m"}, "site.x: not a unit"),
    ({"kind": "site", "name": "count", "dtype": "float", "unit": "1"}, "shadows the xarray Dataset attribute 'count'"),
    ({"kind": "site", "name": "x", "dtype": "float", "unit": "1", "min": 2.0, "max": 1.0}, "min 2.0 is larger than max"),
    ({"kind": "site", "name": "x", "dtype": "str", "min": 0.0}, "a range .* needs a numeric dtype"),
    ({"kind": "site", "name": "x", "dtype": "float", "unit": "1", "default": 5, "max": 1.0},
     r"default 5 is outside its own range \(<= 1\)"),
    ({"kind": "site", "name": "x", "dtype": "float", "unit": "1", "exclusive": "left"}, "exclusive must be"),
])
def test_attribute_spec_validates_itself(kwargs, match):
    with pytest.raises(PluginError, match=match):
        AttributeSpec(**kwargs)


def test_default_values_take_the_dtype():
    assert math.isnan(AttributeSpec("site", "a", "float", "W").default_value())
    assert AttributeSpec("site", "b", "int", "1", "3").default_value() == 3
    assert AttributeSpec("site", "c", "bool", "1", "yes").default_value() is True
    assert AttributeSpec("site", "d", "str").default_value() == ""


def test_unknown_kind_error_lists_the_known_kinds(fresh_plugin_manager):
    with pytest.raises(KeyError, match="unknown component kind 'sites'; did you mean 'site'.*; known kinds: site, link"):
        wb.get_schema().kind("sites")


def test_component_kind_defaults_its_dims_to_its_name():
    assert ComponentKind("supernode").dims == ("supernode",)
    with pytest.raises(PluginError, match="component kind name"):
        ComponentKind("Super Node")


def test_a_unit_unknown_to_the_registry_is_refused_when_the_schema_is_built():
    class Furlong:
        @hookimpl
        def workbench_component_attributes(self):
            yield AttributeSpec("site", "wbtest_reach", "float", "wombats", 0, "Reach (assumed)")

    with plugin_manager(("furlong", Furlong())), pytest.raises(
            PluginError, match="furlong: attribute site.wbtest_reach: unknown unit 'wombats'"):
        wb.get_schema()


def test_every_numeric_attribute_has_a_range_with_its_reason(fresh_plugin_manager):
    """Every numeric attribute of the core and the built-in plugins declares min and/or max and says why."""
    from workbench.plugins import new_plugin_manager, use_plugin_manager

    with use_plugin_manager(new_plugin_manager()):  # builtins and the installed optical and edge plugins
        attrs = [a for kind in wb.get_schema().attributes.values() for a in kind.values()]
    missing = [f"{a.kind}.{a.name} ({a.provided_by})" for a in attrs
               if a.dtype in ("float", "int") and a.min is None and a.max is None]
    unexplained = [f"{a.kind}.{a.name}" for a in attrs if (a.min is not None or a.max is not None)
                   and "range: " not in a.description]
    assert not missing, f"numeric attributes without a range: {missing}"
    assert not unexplained, f"ranges without 'range: <reason>' in the description: {unexplained}"
    assert {a.provided_by.split()[0] for a in attrs if a.min is not None} >= {"workbench.builtins", "optical"}


@pytest.mark.parametrize(("spec", "values", "bad"), [
    (AttributeSpec("site", "a", "float", "1", min=1.0), [0.5, 1.0, np.nan, np.inf], [True, False, False, False]),
    (AttributeSpec("site", "a", "float", "1", min=0.0, exclusive="min"), [0.0, 1e-9], [True, False]),
    (AttributeSpec("site", "a", "float", "1", min=0.0, max=1.0, exclusive="max"), [1.0, 0.999, -0.1],
     [True, False, True]),
])
def test_ranges_inclusive_and_exclusive(spec, values, bad):
    assert spec.out_of_range(np.array(values)).tolist() == bad


def test_range_text():
    assert AttributeSpec("site", "a", "float", "1", min=1.0).range_text() == ">= 1"
    assert AttributeSpec("site", "a", "float", "1", min=0.0, max=1.0, exclusive="min").range_text() == "in (0, 1]"
    assert AttributeSpec("site", "a", "float", "1", max=5.0, exclusive="max").range_text() == "< 5"
