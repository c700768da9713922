"""workbench_embodied: embodied-AI endpoints and device classes (built-in plugin).

Modules (pure functions first, orchestration last):

* :mod:`.dist` - access latency distributions (shifted lognormal, mixture), the deadline-miss probability of
  ``constant + access + queue wait + handover`` in closed form on a grid, expected lateness, Monte Carlo;
* :mod:`.model` - catalogues (``datasets/embodied``), ``embodied_*`` parameters, inference time per model and chip;
* :mod:`.analyses` - scenario analyses ``offload`` and ``deadlines``;
* :mod:`.study` - the ``embodied_sites`` decision space (which edge sites to open) and its objectives;
* :mod:`.cli`, :mod:`.report`, :mod:`.plugin` - CLI command, report section, hook implementations.
"""
