"""Built-in plugin of the optimiser: decision spaces, objectives and constraints for studies.

Registered like any other plugin (listed in :data:`workbench.plugins.BUILTIN_PLUGINS`; until it
is, :mod:`workbench.optimize.study` registers it on first use).
"""

from __future__ import annotations

from ..hookspecs import hookimpl
from ..plugin_types import Constraint, DecisionSpace, Objective


@hookimpl
def workbench_decision_spaces():
    from .placement import build_placement_space
    from .testproblems import build_zdt

    yield DecisionSpace("placement", build=build_placement_space,
                        description="Accelerators per site (blocks) and chip type per site, for inference demand")
    yield DecisionSpace("zdt", build=build_zdt, needs_scenario=False,
                        description="ZDT benchmark space: n real variables in [0, 1] (checks and benchmarks)")


@hookimpl
def workbench_objectives():
    from . import placement as pl
    from . import testproblems as tp

    yield Objective("annual_cost", func=pl.annual_cost, sense="min", units="MCNY/yr",
                    long_name="annual cost (amortised capex + electricity)", spaces=("placement",),
                    description="Accelerator capex over its life plus electricity at the site price and PUE")
    yield Objective("mean_latency", func=pl.mean_latency, sense="min", units="ms",
                    long_name="population-weighted one-way latency", spaces=("placement",),
                    description="Demand-weighted one-way latency of the served inference demand")
    yield Objective("annual_co2", func=pl.annual_co2, sense="min", units="kt/yr",
                    long_name="annual CO2 emissions", spaces=("placement",),
                    description="Electricity x grid carbon intensity of each site")
    yield Objective("renewable_share", func=pl.renewable_share, sense="max", units="1",
                    long_name="renewable share of facility energy", spaces=("placement",),
                    description="Contracted green energy used (green_capacity x hourly capacity factor, at most "
                                "the facility power) / facility energy over the year")
    yield Objective("zdt1_f1", func=tp.zdt1_f1, units="1", long_name="ZDT1 f1", spaces=("zdt",),
                    description="ZDT1 first objective (benchmark)")
    yield Objective("zdt1_f2", func=tp.zdt1_f2, units="1", long_name="ZDT1 f2", spaces=("zdt",),
                    description="ZDT1 second objective (benchmark)")


@hookimpl
def workbench_constraints():
    from . import placement as pl

    yield Constraint("demand_served", func=pl.demand_served, units="1", long_name="unserved share above target",
                     spaces=("placement",), description="Share of reachable demand served >= min_share (0.99)")
    yield Constraint("site_power", func=pl.site_power, units="MW", long_name="site power excess",
                     spaces=("placement",), description="IT power x PUE within each site's capacity")
    yield Constraint("pue_target", func=pl.pue_target, units="1", long_name="average PUE above target",
                     spaces=("placement",), description="IT-power-weighted average PUE <= max_pue (1.3)")
