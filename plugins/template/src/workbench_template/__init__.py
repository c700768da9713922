"""workbench_template: a minimal, real third-party plugin for the Compute-Network Workbench.

It contributes, through the hooks in :mod:`workbench_template.plugin`:

* the site attribute ``template_uptime`` [1] (share of the year a site's facility is available),
* the analysis ``available_compute`` (installed dense throughput x uptime, per site) [FLOP/s],
* the catalogue dataset ``uptime-tiers`` (data-centre tier availabilities, sourced),
* the CLI command ``workbench uptime``,
* the unit ``rack``, the scenario parameter ``template_min_uptime`` [1], the ``link.tech`` choice
  ``fso``, the site attribute ``template_racks`` [rack],
* the analysis ``coverage``, replacing the core one (``replaces="workbench.builtins"``): compute
  circles of the sites whose uptime reaches ``template_min_uptime``.

Ranges ([0, 1] for uptime) are declared on the attributes and checked by the workbench at load.
"""

__version__ = "0.1.0"
