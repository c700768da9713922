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
        CommandSpec,
        ComponentKind,
        Constraint,
        DatasetSpec,
        DecisionSpace,
        Objective,
        ReportSection,
    )

PROJECT = "workbench"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


class WorkbenchSpecs:
    """All hooks. Implementations may accept a subset of the arguments (pluggy)."""

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

        Example::

            @hookimpl
            def workbench_analyses():
                yield AnalysisSpec("fabric", func=fabric_analysis, description="Supernode totals")
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
