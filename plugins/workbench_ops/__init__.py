"""workbench_ops: autonomous network operations, faults and agent security (built-in plugin).

Modules (pure functions first, orchestration last):

* :mod:`.model` - catalogues (``datasets/ops``), ``ops_*`` parameters, restore chains per autonomy level;
* :mod:`.system` - demands routed over the link graph, backup paths, failure elements and memberships;
* :mod:`.engine` - analytic (exact composition, state enumeration) and seeded Monte Carlo engines;
* :mod:`.analyses` - scenario analyses ``availability`` and ``security``;
* :mod:`.study` - the ``ops_autonomy`` decision space and ``ops_*`` objectives;
* :mod:`.cli`, :mod:`.report`, :mod:`.plugin` - CLI command, report section, hook implementations.
"""
