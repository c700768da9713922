"""Hook specifications of the workbench (pluggy project ``workbench``).

Registration hooks are pure: they yield typed, frozen specs from :mod:`workbench.plugin_types`
and do no I/O beyond reading their own package files. Only ``workbench_read_topology`` is
``firstresult`` ("who handles this file?"). Hooks run on the client, never inside a Dask task.

A plugin is a module or object with functions decorated by :data:`hookimpl`, advertised in its
distribution's ``pyproject.toml``::

    [project.entry-points.workbench]
    myplugin = "my_package.plugin"
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from .errors import Problem
    from .model import Scenario
    from .plugin_types import (
        AnalysisSpec,
        AttributeSpec,
        ChoiceSpec,
        CommandSpec,
        ComponentKind,
        Constraint,
        DatasetSpec,
        DecisionSpace,
        Objective,
        ParameterSpec,
        ReportSection,
        UnitDefinition,
    )

PROJECT = "workbench"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


class WorkbenchSpecs:
    """All hooks. Implementations may accept a subset of the arguments (pluggy)."""

    @hookspec
    def workbench_units(self) -> Iterable[UnitDefinition]:
        """Add units to the registry (pint definition syntax); they may be used in attribute and
        parameter units and in scenario files.

        Example::

            @hookimpl
            def workbench_units():
                yield UnitDefinition("rack = [rack]", "one rack position in a data hall")
        """

    @hookspec
    def workbench_parameters(self) -> Iterable[ParameterSpec]:
        """Declare scenario-wide parameters (``parameters:`` in a scenario file), with unit and range.

        Example::

            @hookimpl
            def workbench_parameters():
                yield ParameterSpec("myplugin_margin", "1", 0.1, "Safety margin (assumed)", min=0.0, max=1.0)
        """

    @hookspec
    def workbench_choices(self) -> Iterable[ChoiceSpec]:
        """Add values to the choices of a text attribute (``link.tech``, ``device.access_tech``), each
        with its own one-way delay [ms] where the path model needs one.

        Example::

            @hookimpl
            def workbench_choices():
                yield ChoiceSpec("device", "access_tech", "satellite-leo", "LEO satellite access", delay=20.0)
        """

    @hookspec
    def workbench_component_kinds(self) -> Iterable[ComponentKind]:
        """Declare new component kinds (tables) of a scenario.

        Example::

            @hookimpl
            def workbench_component_kinds():
                yield ComponentKind("supernode", "AI supernodes installed at sites",
                                    attributes=(AttributeSpec("supernode", "site", "str", required=True),))
        """

    @hookspec
    def workbench_component_attributes(self) -> Iterable[AttributeSpec]:
        """Add attributes to existing kinds; prefix the names with the plugin's short name.

        Example::

            @hookimpl
            def workbench_component_attributes():
                yield AttributeSpec("link", "optical_wavelengths", "float", "1", 0,
                                    "Number of lit 400G/800G wavelengths")
        """

    @hookspec
    def workbench_datasets(self) -> Iterable[DatasetSpec]:
        """Declare named scenarios and catalogues loaded from local files.

        Example::

            @hookimpl
            def workbench_datasets():
                yield DatasetSpec("optical-modules", load=_load_modules, kind="catalogue")
        """

    @hookspec
    def workbench_analyses(self) -> Iterable[AnalysisSpec]:
        """Declare analyses: pure ``f(scenario, **params) -> xr.Dataset``.

        A second analysis of an existing name is a conflict unless it says which plugin's analysis
        it replaces: ``AnalysisSpec("coverage", func=my_coverage, replaces="workbench.builtins")``.

        The CLI converts and checks ``--param`` values against ``inspect.signature(func)``: register
        the function itself, or ``lazy("pkg.module:function")`` to import it on first use (it keeps
        the signature), not a ``_wrapper(scenario, **params)``; a function that passes ``**params``
        on to another gives that one's signature with ``lazy(func, signature="pkg.module:other")``.
        An exception other than a :class:`~workbench.errors.WorkbenchError` raised inside a plugin's
        analysis reaches the user as a :class:`~workbench.errors.PluginError` naming the plugin.

        Example::

            @hookimpl
            def workbench_analyses():
                yield AnalysisSpec("fabric", func=lazy("my_plugin.analyses:fabric_analysis"),
                                   description="Supernode totals")
        """

    @hookspec
    def workbench_decision_spaces(self) -> Iterable[DecisionSpace]:
        """Declare decision-variable families for studies.

        Example::

            @hookimpl
            def workbench_decision_spaces():
                yield DecisionSpace("placement", build=build_placement_space)
        """

    @hookspec
    def workbench_objectives(self) -> Iterable[Objective]:
        """Declare study objectives (module-level callables, picklable).

        Example::

            @hookimpl
            def workbench_objectives():
                yield Objective("annual_cost", func=annual_cost, sense="min", units="CNY")
        """

    @hookspec
    def workbench_constraints(self) -> Iterable[Constraint]:
        """Declare study constraints (values <= 0 feasible).

        Example::

            @hookimpl
            def workbench_constraints():
                yield Constraint("site_power", func=site_power_excess, units="W")
        """

    @hookspec
    def workbench_validate(self, scenario: Scenario) -> Iterable[Problem]:
        """Yield consistency problems of a scenario for what this plugin owns; never raise.

        Example::

            @hookimpl
            def workbench_validate(scenario):
                if "optical_wavelengths" in scenario["link"] and (scenario["link"].optical_wavelengths < 0).any():
                    yield Problem("optical_wavelengths must be >= 0", field="link.optical_wavelengths")
        """

    @hookspec(firstresult=True)
    def workbench_read_topology(self, path: Path, format: str | None) -> Any:
        """Read a topology file into a :class:`workbench.io.topology.TopologyImport`, or return None.

        Example::

            @hookimpl
            def workbench_read_topology(path, format):
                if (format or path.suffix.lstrip(".")) != "sndlib":
                    return None
                return read_sndlib(path)
        """

    @hookspec
    def workbench_report_sections(self) -> Iterable[ReportSection]:
        """Declare sections of the HTML report; ``render(run)`` returns HTML or a HoloViews object.

        Example::

            @hookimpl
            def workbench_report_sections():
                yield ReportSection("fabric", "AI supernodes", render=render_fabric, order=40)
        """

    @hookspec
    def workbench_commands(self) -> Iterable[CommandSpec]:
        """Declare CLI subcommands.

        Example::

            @hookimpl
            def workbench_commands():
                yield CommandSpec("fabric", "Supernode totals", configure=_configure, run=_run)
        """
