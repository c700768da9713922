"""workbench_edge: edge and distributed inference, large-small model collaboration (built-in plugin).

Modules (pure functions first, orchestration last):

* :mod:`.catalogue` - model / number-format / request-class catalogues (``datasets/models``), chip look-ups;
* :mod:`.serving` - roofline serving model of a deployment (throughput vs batch, TTFT, TPOT, tokens/J);
* :mod:`.collectives` - tensor-parallel all-reduce time (optical plugin if installed, else a ring model);
* :mod:`.queueing` - M/G/c approximation (Erlang C, Allen-Cunneen) and a small simulation;
* :mod:`.routing` - candidate pairs (KD-tree), sparse LP (HiGHS) and greedy baseline;
* :mod:`.disagg` - prefill/decode disaggregation and pipelines across sites;
* :mod:`.cascade` - small-at-the-edge / large-at-the-hub cascade curves and quality proxy;
* :mod:`.analyses` - scenario analyses ``serving``, ``routing``, ``cascade``, ``disaggregation``;
* :mod:`.study` - the ``edge_deployment`` decision space and ``inference_*`` objectives;
* :mod:`.cli`, :mod:`.report`, :mod:`.plugin` - CLI command, report section, hook implementations.
"""
