"""Multi-objective studies on Dask: decision spaces, objectives, constraints -> pymoo -> ``xr.Dataset``.

>>> import workbench as wb                                              # doctest: +SKIP
>>> from workbench.optimize import Study
>>> study = Study.from_yaml("studies/edwc-placement.yaml")              # doctest: +SKIP
>>> res = study.optimize(client=None, out="results/edwc.nc")            # doctest: +SKIP
>>> res.study.pareto(x="annual_cost", y="mean_latency", c="annual_co2")  # doctest: +SKIP

Modules: :mod:`.space` (variables, spaces), :mod:`.problem` (pymoo problem, block evaluation),
:mod:`.runner` (chunked Dask runner), :mod:`.study` (Study, YAML, checkpoints), :mod:`.results`
(result dataset, hypervolume), :mod:`.algorithms` (pymoo by name), :mod:`.placement` (the
accelerator-placement model), :mod:`.testproblems` (ZDT1), :mod:`.plots` (hvplot helpers and the
``ds.study`` accessor), :mod:`.cli` (``workbench optimize`` / ``workbench sweep``).
"""

from __future__ import annotations

from . import plots as _plots  # noqa: F401  (registers the ``ds.study`` accessor)
from .problem import EvalSpec, StudyProblem, evaluate_block
from .results import load_result, save_result
from .runner import ChunkedDaskRunner
from .space import Binary, Choice, Integer, Real, Space, Variable
from .study import ParameterError, Study, load_checkpoint

__all__ = ["Binary", "ChunkedDaskRunner", "Choice", "EvalSpec", "Integer", "ParameterError", "Real", "Space", "Study",
           "StudyProblem", "Variable", "evaluate_block", "load_checkpoint", "load_result", "save_result"]
