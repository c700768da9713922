"""Operations model: catalogues (``datasets/ops``), parameters, and the time to restore of a fault.

A fault of class ``c`` in domain ``d`` run at autonomy level ``L`` goes through four incident stages
(3GPP TS 28.100 task split: awareness, analysis, decision, execution). Who performs each stage at
each level comes from ``autonomy_levels.csv``:

* ``system`` - the stage takes the system time; it succeeds with the fault class's share
  (``fault_classes.csv``, ``auto_<stage>``), otherwise the incident is escalated to people
  (``escalation`` time) and that stage and every later one is done by people with the system's tools
  (the ``both`` time; people alone where the level has them alone, and for harm done by a manipulated
  agent, whose tools are not trusted);
* ``both`` - a person works with the system (its own, shorter time);
* ``human`` - people alone.

People outside working hours (``ops_work_start_h`` to ``ops_work_end_h``, every day) add the
``oncall`` wait once per incident. A physical repair (fibre splice, card swap) follows for classes that
need one. Automated executions pay the delays of the active guardrails; a guardrail's false positive
escalates a legitimate remediation to people; ``human_in_loop`` adds a human decision to the
high-impact share of automated remediations.

Stage times are lognormal with the tabled mean and coefficient of variation; the steady-state
availability of an element depends only on the mean time to restore, which :meth:`Chain.mean` gives in
closed form (the Monte Carlo draws from the same distribution, :meth:`Chain.sample`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from functools import cache

import numpy as np
import pandas as pd

from workbench.errors import WorkbenchError

STAGES = ("awareness", "analysis", "decision", "execution")
DOMAINS = ("transport", "ip", "dc", "radio")
#: site tiers whose node belongs to the data-centre domain (the others are IP/transport nodes)
DC_TIERS = ("hub", "cluster", "regional", "metro_edge", "bs_edge")
ACTIONS = ("shut", "misroute", "drift", "push")


class OpsError(WorkbenchError, ValueError):
    """Bad input to the ops plugin (names the parameter, the field or the file and what was expected)."""


def _path(name: str):
    from workbench.datasets import dataset_path

    return dataset_path(f"ops/{name}")


@cache
def load_table(name: str) -> pd.DataFrame:
    """One catalogue of ``datasets/ops`` (``autonomy_levels``, ``stages``, ``fault_classes``, ``guardrails``,
    ``attack_actions``) as a read-only DataFrame."""
    path = _path(f"{name}.csv")
    df = pd.read_csv(path, dtype={"source": str, "notes": str}, keep_default_na=False, na_values=[""])
    return df


def guardrail_names() -> list[str]:
    return load_table("guardrails")["guardrail"].tolist()


def parse_guardrails(value) -> tuple[str, ...]:
    """``None``/``"none"``/``""`` -> (); ``"all"`` -> every guardrail; ``"a,b"`` or a sequence -> those (checked)."""
    names = guardrail_names()
    if value is None:
        return ()
    if isinstance(value, str):
        v = value.strip().lower()
        if v in ("", "none"):
            return ()
        if v == "all":
            return tuple(names)
        value = [x.strip() for x in v.split(",") if x.strip()]
    out = []
    for g in value:
        if g not in names:
            raise OpsError(f"unknown guardrail {g!r}; expected none, all, or a comma list of: {', '.join(names)}")
        if g not in out:
            out.append(g)
    return tuple(sorted(out, key=names.index))


def parse_levels(value) -> dict[str, int]:
    """Autonomy level per domain from an int (all domains), ``"L4"``, ``"transport=4,ip=3"`` or a mapping."""
    if value is None:
        value = 2
    if isinstance(value, str):
        v = value.strip()
        if "=" in v:
            out = {}
            for part in v.split(","):
                k, _, lv = part.partition("=")
                out[k.strip()] = lv.strip()
            value = out
        else:
            value = v.upper().removeprefix("L")
    if isinstance(value, dict):
        unknown = set(value) - set(DOMAINS)
        if unknown:
            raise OpsError(f"autonomy: unknown domain(s) {sorted(unknown)}; expected {', '.join(DOMAINS)}")
        levels = {d: _level(value.get(d, 2), d) for d in DOMAINS}
        return levels
    lv = _level(value, "all domains")
    return {d: lv for d in DOMAINS}


def _level(v, where: str) -> int:
    try:
        f = float(str(v).upper().removeprefix("L"))
    except ValueError:
        raise OpsError(f"autonomy level for {where}: expected 0-5 or L0-L5, got {v!r}") from None
    if f != int(f) or not 0 <= f <= 5:
        raise OpsError(f"autonomy level for {where}: expected 0-5 or L0-L5, got {v!r}")
    return int(f)


# ------------------------------------------------------------------------------------------- parameters

@dataclass(frozen=True)
class OpsParams:
    """The scenario parameters the ops model reads (defaults in :mod:`workbench_ops.plugin`)."""

    fibre_cut_rate: float = 2.13          # 1/(1000 km a)
    fibre_mttr: float = 12.0              # h
    srg_rate: float = 0.5                 # 1/a per shared-risk group
    srg_mttr: float = 12.0                # h
    software_fault_rate: float = 0.5      # 1/a per site node
    radio_fault_rate: float = 1.0         # 1/a per access site's radio network
    change_rate: float = 12.0             # 1/a changes per domain
    change_bad_prob: float = 0.01         # 1
    agent_change_bad_factor: float = 1.0  # 1
    protection_switch_ms: float = 50.0    # ms
    restoration_s: float = 1.0            # s
    repair_cv: float = 0.5                # 1
    work_start_h: float = 8.0             # h
    work_end_h: float = 18.0              # h
    high_impact_share: float = 0.2        # 1
    exposure_per_day: float = 200.0       # 1/d untrusted inputs per agent
    attack_prevalence: float = 1e-5       # 1
    injection_success: float = 0.24      # 1
    adaptive_attacker: float = 0.0        # 0|1
    attack_elements: float = 10.0         # 1
    handoff_share: float = 0.5            # 1
    service_detect_min: float = 60.0      # min
    drift_detect_h: float = 24.0          # h
    traffic_per_endpoint: float = 56e3    # bit/s
    wage_cny_per_h: float = 150.0         # CNY/h
    agent_cost_cny_per_year: float = 500e3  # CNY/a per domain agent
    chip_failure_rate: float = 1.206e-5   # 1/h per chip
    transceiver_failure_rate: float = 4.12e-7  # 1/h per transceiver
    chip_mttr: float = 48.0               # h
    chip_fault_domain: float = 8.0        # chips

    @classmethod
    def from_scenario(cls, scenario, **overrides) -> OpsParams:
        from workbench.plugin_types import prefixed_parameters

        from .plugin import PARAMETERS

        return cls(**prefixed_parameters(scenario, "ops", cls.__dataclass_fields__, PARAMETERS, overrides, OpsError))

    @property
    def off_hours_share(self) -> float:
        d = self.work_end_h - self.work_start_h
        span = d if 0.0 < d <= 24.0 else d % 24.0          # 0-24 = staffed around the clock; start = end: never
        return 1.0 - span / 24.0

    def replace(self, **kw) -> OpsParams:
        return replace(self, **kw)


# ------------------------------------------------------------------------------------------- chains

@cache
def _stage_items() -> tuple:
    st = load_table("stages")
    return tuple(((r.stage, r.performer), (float(r.time_min) / 60.0, float(r.cv))) for r in st.itertuples())


def _stage_table() -> dict[tuple[str, str], tuple[float, float]]:
    """(stage, performer) -> (mean time [h], coefficient of variation), a fresh dict."""
    return dict(_stage_items())


def _lognormal(rng, mean, cv, size):
    mean = np.broadcast_to(np.asarray(mean, float), size)
    if cv <= 0:
        return mean.copy()
    s2 = math.log1p(cv * cv)
    return rng.lognormal(np.log(np.maximum(mean, 1e-300)) - s2 / 2, math.sqrt(s2), size) * (mean > 0)


@dataclass(frozen=True)
class Chain:
    """The restore chain of one fault class in one domain at one autonomy level and guardrail set.

    ``performer[s]`` who performs stage s; ``auto[s]`` success share when the system does; ``times`` the
    stage times [h] per performer; ``extra_auto_h`` fixed delay added to an automated execution (guardrail
    delays); ``fpr`` probability that a guardrail blocks a legitimate automated execution (escalates);
    ``hitl_share`` share of automated remediations that need a human decision (human_in_loop);
    ``human_only_after`` stage index from which people act whatever the level (attacks: 1).
    """

    fault_class: str
    domain: str
    level: int
    performer: tuple[str, ...]
    auto: tuple[float, ...]
    physical: bool
    extra_auto_h: float = 0.0
    fpr: float = 0.0
    hitl_share: float = 0.0
    detect_h: float = float("nan")       # overrides the awareness stage time (attacks: service/silent detection)
    human_only_after: int = 4
    off_hours: float = 14.0 / 24.0
    times: dict = field(default_factory=_stage_table, compare=False, repr=False)

    # outcomes: escalation at stage k (k = 0..3) or never (k = 4); humans after it
    def _outcomes(self):
        """[(probability, escalated_at)] with escalated_at in 0..4 (4 = never escalated)."""
        out = []
        p_reach = 1.0
        for k in range(4):
            perf = self._perf(k)
            if perf == "system":
                a = self.auto[k]
                out.append((p_reach * (1 - a), k))
                p_reach *= a
        out.append((p_reach, 4))
        return [(p, k) for p, k in out if p > 0]

    def _perf(self, k: int) -> str:
        return "human" if k >= self.human_only_after else self.performer[k]

    def _after_escalation(self, k: int) -> str:
        """Who performs stage k once the incident has been escalated: people with the system's tools, or
        people alone where the level has them alone at that stage or the system is not trusted (attacks)."""
        if k >= self.human_only_after or self.performer[k] == "human":
            return "human"
        return "both"

    def _stage_mean(self, k: int, perf: str, redo: bool = False) -> float:
        m = self.times[(STAGES[k], perf)][0]
        if k == 0 and not redo and not math.isnan(self.detect_h):
            return max(m, self.detect_h)          # harm that raises no alarm is noticed late by anyone
        return m

    def _path(self, esc: int):
        """Stages of one outcome: [(stage index, performer)], escalation flag, human involved flag, auto exec."""
        steps = []
        human = False
        for k in range(4):
            perf = self._perf(k)
            redo = k == esc
            if k >= esc:
                if k == esc:
                    steps.append((k, "system", False))
                    steps.append((-1, "escalation", False))
                perf = self._after_escalation(k)
            steps.append((k, perf, redo))
            if perf != "system":
                human = True
        auto_exec = esc == 4 and self._perf(3) == "system"
        return steps, human, auto_exec

    @property
    def key(self) -> tuple:
        """A hashable identity of the chain's distribution (NaN detection time as None: NaN != NaN)."""
        return (self.fault_class, self.domain, self.level, self.performer, self.auto, self.physical,
                self.extra_auto_h, self.fpr, self.hitl_share, None if math.isnan(self.detect_h) else self.detect_h,
                self.human_only_after, self.off_hours, self.times.get(("_work_start", ""), (8.0,))[0],
                tuple(sorted((k, v) for k, v in self.times.items() if k[1] != "")))

    def _mean_parts(self, crew: bool = False):
        """Mean restore time [h] and mean people hours per incident (cached per distinct chain)."""
        return _chain_mean_parts(self, crew)

    def _compute_mean_parts(self, crew: bool = False):
        """Mean restore time [h] and mean people hours per incident (without the physical repair)."""
        t = hours = 0.0
        t_esc = self.times[("escalation", "human")][0]
        t_on = self.times[("oncall", "human")][0]
        t_dec_h = self.times[("decision", "human")][0]
        t_exe_h = self.times[("execution", "human")][0]
        for p, esc in self._outcomes():
            steps, human, auto_exec = self._path(esc)
            tt = hh = 0.0
            for k, perf, redo in steps:
                if k < 0:
                    tt += t_esc
                    hh += t_esc
                    continue
                m = self._stage_mean(k, perf, redo)
                tt += m
                if perf != "system":
                    hh += m
            if auto_exec:
                tt += self.extra_auto_h
                # a false positive escalates the remediation; human_in_loop adds a human decision
                tt += self.fpr * (t_esc + t_exe_h) + self.hitl_share * t_dec_h
                hh += self.fpr * (t_esc + t_exe_h) + self.hitl_share * t_dec_h
                p_h = 1 - (1 - self.fpr) * (1 - self.hitl_share)
                tt += p_h * (0 if (human or crew) else self.off_hours * t_on)
                hh += p_h * (0 if (human or crew) else self.off_hours * t_on)
            if human or crew:
                tt += self.off_hours * t_on
                hh += self.off_hours * t_on
            t += p * tt
            hours += p * hh
        return t, hours

    def mean(self, crew: bool = False) -> float:
        """Mean time to restore without the physical repair [h] (working hours averaged over the day).

        ``crew``: a repair crew is sent whatever the chain (a physical repair): people are always involved,
        so the on-call wait applies outside working hours even when the system closed the loop."""
        return self._mean_parts(crew)[0]

    def people_hours(self, crew: bool = False) -> float:
        """Mean people hours per incident without the physical repair [h]."""
        return self._mean_parts(crew)[1]

    def sample(self, rng, tod_h: np.ndarray) -> np.ndarray:
        """Restore times [h] (without the physical repair) of incidents starting at hours of the day ``tod_h``."""
        base, human, oncall = self.sample_parts(rng, tod_h.size)
        return base + np.where(human & self._is_off(tod_h), oncall, 0.0)

    def sample_parts(self, rng, n: int):
        """``n`` incidents' restore times split into what does not depend on the hour of the day: the time
        without any on-call wait [h], whether people are involved, and the on-call wait they would add
        outside working hours [h]. ``base + (human and off-hours) x oncall`` is :meth:`sample`."""
        if n == 0:
            z = np.zeros(0)
            return z, np.zeros(0, bool), z
        # escalation point of each incident
        esc = np.full(n, 4)
        undecided = np.ones(n, bool)
        for k in range(4):
            if self._perf(k) == "system":
                fail = undecided & (rng.random(n) >= self.auto[k])
                esc[fail] = k
                undecided &= ~fail
        total = np.zeros(n)
        human = np.zeros(n, bool)
        t_esc, cv_esc = self.times[("escalation", "human")]
        for k in range(4):
            perf0 = self._perf(k)
            # performer of stage k for each incident
            is_sys = (perf0 == "system") & (esc > k)
            at_esc = esc == k
            # system time where the system acts (including the failed attempt at the escalation stage)
            sys_t = self._stage_mean(k, "system") if perf0 == "system" else 0.0
            cv_sys = self.times[(STAGES[k], "system")][1]
            m_sys = is_sys | at_esc
            if m_sys.any() and sys_t > 0:
                total[m_sys] += _lognormal(rng, sys_t, cv_sys, int(m_sys.sum()))
            if at_esc.any():
                total[at_esc] += _lognormal(rng, t_esc, cv_esc, int(at_esc.sum()))
            # people
            m_h = ~is_sys
            perf_h = np.where(at_esc | (esc < k), self._after_escalation(k), perf0)
            for perf in ("human", "both"):
                sel = m_h & (perf_h == perf)
                if sel.any():
                    cv = self.times[(STAGES[k], perf)][1]
                    for redo in (False, True):
                        sub = sel & (at_esc == redo)
                        if sub.any():
                            total[sub] += _lognormal(rng, self._stage_mean(k, perf, redo), cv, int(sub.sum()))
                    human |= sel
        auto_exec = (esc == 4) & (self._perf(3) == "system")
        if auto_exec.any():
            total[auto_exec] += self.extra_auto_h
            idx = np.flatnonzero(auto_exec)
            fp = rng.random(idx.size) < self.fpr
            hi = rng.random(idx.size) < self.hitl_share
            t_exe = self.times[("execution", "human")]
            t_dec = self.times[("decision", "human")]
            total[idx[fp]] += _lognormal(rng, t_esc, cv_esc, int(fp.sum())) + _lognormal(rng, *t_exe, int(fp.sum()))
            total[idx[hi]] += _lognormal(rng, *t_dec, int(hi.sum()))
            human[idx[fp | hi]] = True
        t_on, cv_on = self.times[("oncall", "human")]
        return total, human, _lognormal(rng, t_on, cv_on, n)

    def is_off(self, tod_h) -> np.ndarray:
        """Whether each hour of the day is outside the working hours of operations staff."""
        return self._is_off(np.asarray(tod_h, float))

    def _is_off(self, tod_h):
        share = self.off_hours
        if share <= 0:
            return np.zeros(tod_h.shape, bool)
        if share >= 1:
            return np.ones(tod_h.shape, bool)
        # working hours [start, start + (1 - share) * 24) with start 8 h by default (set by build_chain)
        start = self.times.get(("_work_start", ""), (8.0,))[0]
        return ((tod_h - start) % 24.0) >= (1 - share) * 24.0


def _chain_mean_parts(chain: Chain, crew: bool) -> tuple[float, float]:
    key = (chain.key, crew)
    if key not in _MEAN_CACHE:
        if len(_MEAN_CACHE) > 100_000:
            _MEAN_CACHE.clear()
        _MEAN_CACHE[key] = chain._compute_mean_parts(crew)
    return _MEAN_CACHE[key]


_MEAN_CACHE: dict = {}


@cache
def level_performers(level: int) -> tuple[str, ...]:
    t = load_table("autonomy_levels")
    row = t[t["level"] == level]
    if row.empty:
        raise OpsError(f"autonomy level {level}: expected 0-5")
    return tuple(str(row.iloc[0][s]) for s in STAGES)


@cache
def fault_class_row(name: str) -> dict:
    t = load_table("fault_classes")
    row = t[t["fault_class"] == name]
    if row.empty:
        raise OpsError(f"unknown fault class {name!r}; expected one of {', '.join(t['fault_class'])}")
    return row.iloc[0].to_dict()


def guardrail_effects(guardrails: tuple[str, ...], params: OpsParams) -> dict:
    """Combined effect of a guardrail set on legitimate remediation (delay, false positives, human decision
    share), on injection success (ASR factor) and on each harmful action (catch), plus reach limits."""
    g = load_table("guardrails").set_index("guardrail")
    adaptive = params.adaptive_attacker >= 0.5
    delay_s = 0.0
    keep_fpr = 1.0
    asr = 1.0
    miss = {a: 1.0 for a in ACTIONS}
    miss_no_hitl = {a: 1.0 for a in ACTIONS}     # without human_in_loop (people already decide at L0-L3)
    reach_cap = 0
    canary = canary_catch = 0.0
    hitl = 0.0
    cost = 0.0
    for name in guardrails:
        r = g.loc[name]
        weaken = 0.1 if (adaptive and bool(r["detector"])) else 1.0
        delay_s += float(r["delay_s"])
        keep_fpr *= 1 - float(r["fpr"])
        asr *= 1 - weaken * (1 - float(r["asr_factor"]))
        if float(r["push_canary"]) > 0:
            # staged rollout: a bad push is stopped at the canary share of the fleet with this probability;
            # the push still hits the canary (a split of the push, not a catch), for agents and people alike
            canary = float(r["push_canary"])
            canary_catch = float(r["catch_push"])
        for a in ACTIONS:
            if a == "push" and float(r["push_canary"]) > 0:
                continue
            c = float(r[f"catch_{a}"]) * weaken
            if bool(r["high_impact_only"]) and a not in _high_impact_actions():
                # people in the loop see the high-impact actions only
                c = 0.0
            miss[a] *= 1 - c
            if not bool(r["high_impact_only"]):
                miss_no_hitl[a] *= 1 - c
        if int(r["reach_cap"]) > 0:
            reach_cap = int(r["reach_cap"]) if reach_cap == 0 else min(reach_cap, int(r["reach_cap"]))
        if bool(r["high_impact_only"]):
            hitl = params.high_impact_share
        cost += float(r["cost_cny_per_agent_year"])
    return {"delay_h": delay_s / 3600.0, "fpr": 1 - keep_fpr, "asr_factor": asr, "miss": miss,
            "miss_no_hitl": miss_no_hitl,
            "reach_cap": reach_cap, "canary": canary, "hitl_share": hitl, "cost_per_agent": cost,
            "canary_catch": canary_catch}


@cache
def _high_impact_actions() -> tuple[str, ...]:
    t = load_table("attack_actions")
    return tuple(t.loc[t["high_impact"].astype(str).str.lower() == "true", "action"])


@cache
def human_review_catch(action: str) -> float:
    """Catch of a person reviewing an agent's proposed action (the human_in_loop row, all actions)."""
    g = load_table("guardrails").set_index("guardrail")
    return float(g.loc["human_in_loop", f"catch_{action}"])


def build_chain(fault_class: str, domain: str, level: int, params: OpsParams, effects: dict | None = None,
                detect_h: float = float("nan")) -> Chain:
    """The restore chain of ``fault_class`` in ``domain`` at ``level`` with a guardrail set's ``effects``."""
    row = fault_class_row(fault_class)
    effects = effects or {"delay_h": 0.0, "fpr": 0.0, "hitl_share": 0.0}
    times = _stage_table()
    times[("_work_start", "")] = (params.work_start_h, 0.0)
    for k in list(times):
        if k[1] != "" and k[0] in STAGES + ("escalation", "oncall"):
            times[k] = (times[k][0], times[k][1])
    performer = level_performers(level)
    # where people decide (decision by human or human & system), human_in_loop adds no second approval
    hitl = effects["hitl_share"] if performer[2] == "system" else 0.0
    return Chain(fault_class=fault_class, domain=domain, level=level, performer=performer,
                 auto=tuple(float(row[f"auto_{s}"]) for s in STAGES), physical=str(row["physical"]).lower() == "true",
                 extra_auto_h=effects["delay_h"], fpr=effects["fpr"], hitl_share=hitl,
                 detect_h=detect_h, human_only_after=1 if fault_class == "attack" else 4,
                 off_hours=params.off_hours_share, times=times)
