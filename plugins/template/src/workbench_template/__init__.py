"""workbench_template: a minimal, real third-party plugin for the Compute-Network Workbench.

It contributes, through the hooks in :mod:`workbench_template.plugin`:

* the site attribute ``template_uptime`` [1] (share of the year a site's facility is available),
* the analysis ``available_compute`` (installed dense throughput x uptime, per site) [FLOP/s],
* the catalogue dataset ``uptime-tiers`` (data-centre tier availabilities, sourced),
* the CLI command ``workbench uptime``,
* a ``workbench_validate`` check that uptimes lie in [0, 1].
"""

__version__ = "0.1.0"
