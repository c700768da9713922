"""Accelerator placement on a compute network: how many accelerators of which type go to each site.

The decision space ``placement`` (built from a scenario) has, per candidate site ``s``:

* ``<site>.blocks``: an integer number of blocks of accelerators (``block`` chips each; default
  1,000 at hubs and clusters, 100 elsewhere), bounded by the site's power capacity at the lowest
  TDP on offer and by ``max_blocks``;
* ``<site>.chip``: a choice among the offered chip types (omitted with a single chip type).

Evaluation (vectorised over the population, numpy only; one call of :func:`decode` per block):

* **Demand.** Every device group (for ``china-edwc``: a metro's residents) needs
  ``count x demand_per_capita`` of delivered inference compute [FLOP/s], with
  ``demand_per_capita = tokens_per_capita_day x flop_per_token / 86,400 s``.
* **Latency** from group ``m`` to site ``s``, one way [ms], by the core path model
  (:func:`workbench.paths.group_site_latency`): the group's access delay
  (:data:`workbench.latency.ACCESS_DELAY_MS` by ``access_tech``) + metro fibre from the group's centre
  to its access PoP + 0.1 ms metro equipment + the shortest path over the link graph on the ``ip``
  layer (``layer=``) + the site's ``hop_delay``. A site farther than the group's ``latency_budget``
  (or the space's ``latency_budget_ms`` where unset), or not reachable over the graph, cannot serve
  it. ``path_model="direct"`` is the named milestone-1 approximation (great circle x
  ``route_factor`` + 0.1 ms, no graph).
* **Serving** approximates nearest-first allocation in ``max_passes`` rounds: in each round every
  group sends its unserved demand to its nearest site with spare capacity; an overloaded site serves
  every group that came to it in the same proportion (spare / load) and is then full. Site
  capacity = chips x dense BF16 FLOP/s x ``serving_efficiency``. Demand left after the rounds is
  unserved.
* **Annual cost** [MCNY/yr] = sum over sites of chips x price x ``usd_to_cny`` / ``lifetime_yr``
  (straight-line amortisation) + energy x the site's ``power_price``;
  **energy** [kWh/yr] = chips x TDP x ``utilisation`` x PUE x 8,760 h / 1,000.
  **Annual CO2** [kt/yr] = energy x the site's ``carbon_intensity``.
* **Constraints**: served share of the reachable demand >= ``min_share`` (``demand_served``);
  IT power x PUE <= the site's ``capacity`` (``site_power``, summed excess [MW]); IT-power-weighted
  average PUE <= ``max_pue`` (``pue_target``).

By default existing inventory is ignored: the study places new inference capacity (greenfield).

Milestone 2 (``brownfield=True``, ``hourly=True``, ``green``; each optional, milestone-1 results
unchanged when the first two are off: ``green`` defaults to ``hourly``, so the annual model ignores the
sites' ``green_capacity`` unless asked with ``green=True``):

* **Brownfield.** The scenario's installed chips at the candidate sites (``inventory.installed`` x the
  catalogue's ``bf16_flops`` x ``serving_efficiency``; every installed chip type needs ``bf16_flops``
  and ``tdp``) count as capacity, IT power, energy and CO2 but carry no capex (sunk); the decision
  variables add blocks on top. Installed chips at sites that are not candidates are ignored (their
  count and sites are in the space's ``attrs``). The ``blocks`` bound subtracts the installed facility
  power from the site's capacity; ``pue_target`` weighs the *added* IT power only (the 2021 target is
  for new data centres).
* **Hourly.** Evaluation over :func:`workbench.profiles.representative_days` (4 seasons x 24 h,
  weights ``w_t`` [h] summing to 8,760): demand of group ``m`` at ``t`` = its annual-average demand x
  ``demand_shape(class, t)``; the same nearest-first serving per snapshot (vectorised over population x
  snapshots); facility power of site ``s`` at ``t`` [W] = TDP sum x (``idle_power_share`` + (1 -
  ``idle_power_share``) x ``u_st``) x PUE, with ``u_st`` = served load / delivered capacity of the site
  (installed + added); the milestone-1 ``utilisation`` is not used. Green power used = min(
  ``green_capacity`` x ``green_cf(t)``, facility power) (paid on the energy used; the surplus is
  curtailed and not paid); grid power = facility - green. The hourly inputs come from
  :mod:`workbench.profiles` over the representative days (weekdays: see
  :func:`workbench.profiles.representative_days`); a scenario's own time series and a static
  ``green_cf`` are not read here (the ``dispatch`` analysis reads them). Annual cost = added capex /
  life + sum_t w_t (grid x ``power_price``
  x ``tou_multiplier`` + green x ``green_price``); CO2 = sum_t w_t grid x ``carbon_intensity`` x
  ``carbon_multiplier``; latency = served-and-weight-weighted mean one-way latency; served share =
  sum_t w_t served / sum_t w_t reachable demand.
* **Annual mode with green power** (``hourly=False``): facility power is the milestone-1 average
  (TDP x ``utilisation`` x PUE, constant) and green power used = min(``green_capacity`` x the
  weight-averaged ``green_cf`` over the representative days, facility power); cost and CO2 split the
  energy the same way. This ignores the hour-by-hour mismatch of supply and load, so it overstates the
  green energy a site can use compared with the hourly mode.
* **Renewable share** [1] = contracted green energy used / facility energy over the year (0 without
  chips or without ``green_capacity``).

With flat profiles (``demand_shape`` = ``tou_multiplier`` = ``carbon_multiplier`` = 1, constant
``green_cf``) the hourly mode equals the annual mode when every site draws the same power share in
both: ``idle_power_share + (1 - idle_power_share) x u_s = utilisation`` at every site with chips, for
example ``idle_power_share = utilisation = 1`` for any placement, or ``idle_power_share = 0.4`` and
``utilisation = 0.7`` where every used site is half loaded (tests/optimize/test_placement_v2.py).

Every default below is an **assumed** value unless a source is given; each says why.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import xarray as xr

from .. import latency as lat
from .. import paths as _paths
from ..errors import WorkbenchError
from .space import Choice, Integer, Space

# --------------------------------------------------------------------------- assumed defaults

#: Tokens of LLM inference per resident per day [token/d]. **Assumed**: a 2026-2028 "agentic" usage
#: scenario (assistants and agents acting for every resident); no source in FIGURES.md. Sweep it.
TOKENS_PER_CAPITA_DAY = 20_000.0

#: Compute per generated token [FLOP/token] = 2 x 70e9: a dense 70B-parameter model (the Llama
#: 70B class of FIGURES 6.3) at 2 FLOP per parameter per token for a forward pass (Kaplan et al.,
#: "Scaling Laws for Neural Language Models", arXiv 2001.08361 (2020), C_forward ~ 2N). Attention
#: FLOPs are left out. The model size is **assumed**.
FLOP_PER_TOKEN = 2 * 70e9

#: Delivered / peak dense BF16 throughput when serving [1]. **Assumed** 0.3: decode is
#: memory-bandwidth bound at small batch (FIGURES 6.3: ~1 FLOP/byte vs an H100 ridge of ~295),
#: batching and prefill raise utilisation; 0.3 is a round middle value, not a measurement.
SERVING_EFFICIENCY = 0.3

#: Average electrical power / TDP of an installed accelerator [1]. **Assumed** 0.7 (busy inference
#: fleets rarely sit at TDP; no source in FIGURES.md).
UTILISATION = 0.7

#: Accounting life of an accelerator [yr]. **Assumed** 5 years straight-line (a common server
#: depreciation period; not from FIGURES.md).
LIFETIME_YR = 5.0

#: Exchange rate [CNY/USD]. **Assumed** 7.2, the rate the core schema uses to turn the USD 0.088/kWh
#: industrial price (FIGURES 5.2, china-briefing) into its 0.63 CNY/kWh default.
USD_TO_CNY = 7.2

#: One-way latency budget of inference demand [ms] where a device group sets none. MIIT's "20 ms
#: between national hubs" (FIGURES 1.3 [S]) read as a one-way bound (the source does not say one
#: way or round trip: **assumed** reading).
LATENCY_BUDGET_MS = 20.0

#: Chip prices where the catalogue has none [USD]. **All assumed**: the chip catalogue and
#: FIGURES.md carry no sourced price; these are round order-of-magnitude figures from press
#: coverage, not verified, for relative comparisons only. Override with ``chip_price_usd``.
CHIP_PRICE_USD: dict[str, float] = {
    "ascend-910b": 15_000.0,
    "ascend-910c": 25_000.0,
    "h100-sxm": 25_000.0,
    "h200-sxm": 30_000.0,
}

#: Chips offered by default: the two domestic Ascend parts of the catalogue (FIGURES 3.3; local
#: power subsidies are for domestic chips only, FIGURES 5.2 [S]).
DEFAULT_CHIPS = ("ascend-910c", "ascend-910b")

#: Chips per block by site tier [1]. **Assumed**: 1,000 at hubs and clusters (a few supernodes), 100
#: at edge sites (a few racks).
DEFAULT_BLOCK = {"hub": 1000, "cluster": 1000}
DEFAULT_BLOCK_OTHER = 100

#: Upper bound on blocks per site [1]. **Assumed** 64 (64,000 chips at a cluster): above the
#: ~82,000 chips the default demand needs in total, split over at least two sites.
MAX_BLOCKS = 64

#: Rounds of the nearest-first serving approximation [1].
MAX_PASSES = 16

#: The four western hub nodes of East Data West Compute (the plan's "west": compute for the east's
#: data). The grouping is the common reading of the 2022 plan (FIGURES 1.1 lists the hubs; the
#: lower PUE target of 1.2 applies to western clusters, FIGURES 1.2). **Assumed grouping**.
WEST_HUBS = ("Inner Mongolia", "Guizhou", "Gansu", "Ningxia")

#: Electrical power of an idle accelerator (and its share of the server) / TDP [1], hourly mode.
#: **Assumed** 0.4: inference servers are far from energy-proportional (model weights stay resident in
#: HBM, host CPUs, memory, fans and NICs keep running); no sourced figure for Ascend fleets in
#: FIGURES.md. With 0.4 a site at half load draws 0.7 x TDP, the milestone-1 :data:`UTILISATION`,
#: so the two modes agree at half load.
IDLE_POWER_SHARE = 0.4

#: Price of contracted green energy where the scenario's schema has no ``green_price`` [CNY/kWh]:
#: the core schema's default (0.30, assumed there: wind and solar are paid about the provincial coal
#: benchmark, 0.26-0.45 CNY/kWh).
GREEN_PRICE = 0.30

#: Green source where a site gives none: the core schema's default.
GREEN_SOURCE = "solar+wind"

#: Memory budget of one chunk of rows in :func:`serve` [byte] (its largest temporaries are
#: ``rows x groups x sites`` float64 arrays, about three alive at once). **Assumed** ~300 MB, so two
#: workers fit next to each other on a small machine.
SERVE_CHUNK_BYTES = 300e6

HOURS_PER_YEAR = 8760.0

__all__ = ["CHIP_PRICE_USD", "DEFAULT_CHIPS", "FLOP_PER_TOKEN", "GREEN_PRICE", "IDLE_POWER_SHARE",
           "LATENCY_BUDGET_MS", "LIFETIME_YR", "MAX_BLOCKS", "PlacementContext", "PlacementState",
           "SERVING_EFFICIENCY", "TOKENS_PER_CAPITA_DAY", "USD_TO_CNY", "UTILISATION", "WEST_HUBS", "annual_co2",
           "annual_cost", "build_placement_space", "decode_placement", "demand_served", "describe_placement",
           "mean_latency", "pue_target", "renewable_share", "sample_placement", "serve", "site_power"]


@dataclass(frozen=True)
class PlacementContext:
    """Precomputed numpy data of a placement space (shipped once to every worker).

    Arrays over sites ``S`` and device groups ``M`` and chip options ``C``; units in brackets.
    """

    site: np.ndarray            # (S,) ids
    tier: np.ndarray            # (S,)
    hub: np.ndarray             # (S,)
    lon: np.ndarray             # (S,) [degree_east]
    lat: np.ndarray             # (S,) [degree_north]
    pue: np.ndarray             # (S,) [1]
    power_price: np.ndarray     # (S,) [CNY/kWh]
    carbon_intensity: np.ndarray  # (S,) [kg/kWh]
    capacity_w: np.ndarray      # (S,) [W], inf where unlimited
    block: np.ndarray           # (S,) [1] chips per block
    west: np.ndarray            # (S,) bool
    chip: np.ndarray            # (C,) ids
    chip_flops: np.ndarray      # (C,) [FLOP/s] dense BF16
    chip_tdp_w: np.ndarray      # (C,) [W]
    chip_price_cny: np.ndarray  # (C,) [CNY]
    latency_ms: np.ndarray      # (M, S) [ms] one way, inf beyond the budget
    demand: np.ndarray          # (M,) [FLOP/s] delivered compute needed
    reachable_demand: float     # [FLOP/s] demand of groups with at least one site in budget
    serving_efficiency: float   # [1]
    utilisation: float          # [1]
    lifetime_yr: float          # [yr]
    max_passes: int
    # brownfield (zeros when off): installed chips at the candidate sites
    installed_chips: np.ndarray | None = None       # (S,) [1]
    installed_it_power_w: np.ndarray | None = None  # (S,) [W] TDP sum
    installed_capacity: np.ndarray | None = None    # (S,) [FLOP/s] delivered
    # contracted green power (zeros when off or absent)
    green_capacity_w: np.ndarray | None = None      # (S,) [W] nameplate
    green_price: np.ndarray | None = None           # (S,) [CNY/kWh]
    green_cf_mean: np.ndarray | None = None         # (S,) [1] weight-averaged over the representative days
    # hourly mode over snapshots T (None when off)
    hourly: bool = False
    weights_h: np.ndarray | None = None             # (T,) [h]
    demand_t: np.ndarray | None = None              # (T, M) [FLOP/s]
    reachable_demand_t: np.ndarray | None = None    # (T,) [FLOP/s]
    tou: np.ndarray | None = None                   # (T, S) [1]
    green_cf_t: np.ndarray | None = None            # (T, S) [1]
    carbon_mult: np.ndarray | None = None           # (T, S) [1]
    idle_power_share: float = IDLE_POWER_SHARE      # [1]

    @property
    def n_site(self) -> int:
        return len(self.site)

    @property
    def n_chip(self) -> int:
        return len(self.chip)


@dataclass(frozen=True)
class PlacementState:
    """Decoded and simulated candidates (arrays over candidates ``n``)."""

    blocks: np.ndarray          # (n, S) [1]
    choice: np.ndarray          # (n, S) chip option index
    chips: np.ndarray           # (n, S) [1] added chips (brownfield: on top of the installed)
    it_power_w: np.ndarray      # (n, S) [W] TDP sum of installed + added chips
    energy_kwh: np.ndarray      # (n, S) [kWh/yr] facility energy
    served: np.ndarray          # (n,) [FLOP/s]
    served_share: np.ndarray    # (n,) [1]
    mean_latency_ms: np.ndarray  # (n,) [ms]
    cost_mcny: np.ndarray       # (n,) [MCNY/yr]
    co2_kt: np.ndarray          # (n,) [kt/yr]
    added_it_power_w: np.ndarray | None = None  # (n, S) [W] TDP sum of the added chips
    green_kwh: np.ndarray | None = None         # (n, S) [kWh/yr] contracted green energy used
    renewable_share: np.ndarray | None = None   # (n,) [1]


# --------------------------------------------------------------------------- building


def _positive(name: str, value, allow_zero: bool = False) -> float:
    from .study import ParameterError

    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ParameterError(name, f"expected a number, got {value!r}") from None
    if not math.isfinite(v) or v < 0 or (v == 0 and not allow_zero):
        raise ParameterError(name, f"expected a finite number {'>=' if allow_zero else '>'} 0, got {value!r}")
    return v


def build_placement_space(scenario, *, chips: Sequence[str] = DEFAULT_CHIPS,
                          chip_price_usd: Mapping[str, float] | None = None,
                          block: int | Mapping[str, int] | None = None, max_blocks: int = MAX_BLOCKS,
                          tiers: Sequence[str] | None = None, sites: Sequence[str] | None = None,
                          tokens_per_capita_day: float = TOKENS_PER_CAPITA_DAY,
                          flop_per_token: float = FLOP_PER_TOKEN, serving_efficiency: float = SERVING_EFFICIENCY,
                          utilisation: float = UTILISATION, lifetime_yr: float = LIFETIME_YR,
                          usd_to_cny: float = USD_TO_CNY, latency_budget_ms: float = LATENCY_BUDGET_MS,
                          max_passes: int = MAX_PASSES, layer: str = "ip", path_model: str = "graph",
                          brownfield: bool = False, hourly: bool = False,
                          idle_power_share: float = IDLE_POWER_SHARE, green: bool | None = None,
                          green_capacity: Mapping[str, float] | None = None,
                          profile_year: int | None = None) -> Space:
    """Build the placement decision space of a scenario (see the module docstring).

    Parameters
    ----------
    scenario : Scenario
        Needs sites (lon, lat, tier, pue, power_price, carbon_intensity, capacity), the chip
        catalogue and device groups (lon, lat, endpoints, access_tech, latency_budget).
    chips : sequence of str
        Chip ids on offer (catalogue ids); one -> no chip-choice variables.
    chip_price_usd : mapping, optional
        Prices [USD] overriding the catalogue's (which are NaN where unsourced) and
        :data:`CHIP_PRICE_USD`.
    block : int or mapping tier -> int, optional
        Chips per block [1]; default :data:`DEFAULT_BLOCK` (others 100).
    max_blocks : int
        Upper bound of every ``blocks`` variable [1].
    tiers, sites : sequence of str, optional
        Candidate sites: those of the given tiers and/or ids (default: every site).
    tokens_per_capita_day : float
        [token/d] per device (resident).
    flop_per_token : float
        [FLOP/token].
    serving_efficiency, utilisation : float
        [1], see module constants.
    lifetime_yr : float
        [yr].
    usd_to_cny : float
        [CNY/USD].
    latency_budget_ms : float
        One-way budget [ms] where a device group has none.
    max_passes : int
        Serving rounds [1].
    layer, path_model : str
        Network layer and path model of the latencies (:mod:`workbench.paths`).
    brownfield : bool
        Count the scenario's installed chips at the candidate sites (no capex); blocks add to them.
    hourly : bool
        Evaluate over the representative days of :mod:`workbench.profiles` (module docstring).
    idle_power_share : float
        [1] power of an idle chip / TDP in hourly mode (:data:`IDLE_POWER_SHARE`).
    green : bool, optional
        Use the sites' contracted green power (``green_capacity``, ``green_source``, ``green_price``;
        absent attributes = none); False ignores it (renewable share 0). Default: as ``hourly``.
    green_capacity : mapping site id -> float, optional
        Contracted green nameplate [W] per candidate site, replacing the scenario's ``green_capacity``
        there (a what-if for scenarios without green data).
    profile_year : int, optional
        Calendar year of the representative days (default: that of :mod:`workbench.profiles`).
    """
    from .study import ParameterError

    site = scenario["site"]
    ids = np.asarray(site["site"].values, dtype=object)
    mask = np.ones(len(ids), dtype=bool)
    tier_all = np.asarray(site["tier"].values, dtype=object)
    if tiers is not None:
        tiers = [tiers] if isinstance(tiers, str) else list(tiers)
        unknown = sorted(set(tiers) - set(tier_all.tolist()))
        if unknown:
            raise ParameterError("tiers", f"no site has tier {unknown}; tiers present: {sorted(set(tier_all))}")
        mask &= np.isin(tier_all, tiers)
    if sites is not None:
        sites = [sites] if isinstance(sites, str) else list(sites)
        unknown = sorted(set(sites) - set(ids.tolist()))
        if unknown:
            raise ParameterError("sites", f"unknown site ids {unknown}")
        mask &= np.isin(ids, sites)
    if not mask.any():
        raise ParameterError("tiers", "no candidate site left")
    idx = np.flatnonzero(mask)
    sub = site.isel(site=idx)

    chips = [chips] if isinstance(chips, str) else list(chips or ())
    if not chips:
        raise ParameterError("chips", "offer at least one chip type")
    cat = scenario["chip"]
    known = set(np.asarray(cat["chip"].values).tolist())
    missing = [c for c in chips if c not in known]
    if missing:
        raise ParameterError("chips", f"not in the scenario's chip catalogue: {missing}; known: {sorted(known)}")
    if len(set(chips)) != len(chips):
        raise ParameterError("chips", f"duplicate chip ids in {chips}")
    csel = cat.sel(chip=chips)
    prices = dict(CHIP_PRICE_USD)
    for c, p in zip(chips, csel["price"].values):
        if np.isfinite(p):
            prices[c] = float(p)
    for c, p in (chip_price_usd or {}).items():
        prices[str(c)] = _positive(f"chip_price_usd.{c}", p)
    no_price = [c for c in chips if c not in prices]
    if no_price:
        raise ParameterError("chip_price_usd", f"no price for {no_price}: the catalogue has none and no assumed "
                                               "default exists; give one in USD")
    flops = np.asarray(csel["bf16_flops"].values, dtype=float)
    tdp = np.asarray(csel["tdp"].values, dtype=float)
    if not (np.all(np.isfinite(flops)) and np.all(flops > 0) and np.all(np.isfinite(tdp)) and np.all(tdp > 0)):
        raise ParameterError("chips", "every offered chip needs a positive bf16_flops and tdp in the catalogue")
    usd_to_cny = _positive("usd_to_cny", usd_to_cny)
    price_cny = np.array([prices[c] for c in chips], dtype=float) * usd_to_cny

    tier = np.asarray(sub["tier"].values, dtype=object)
    if block is None:
        block = DEFAULT_BLOCK
    if isinstance(block, Mapping):
        blocks_per = np.array([block.get(t, DEFAULT_BLOCK_OTHER) for t in tier], dtype=float)
    else:
        blocks_per = np.full(len(tier), float(block))
    if not np.all(np.isfinite(blocks_per)) or np.any(blocks_per < 1) or np.any(blocks_per != np.rint(blocks_per)):
        raise ParameterError("block", f"chips per block must be whole numbers >= 1, got {block!r}")
    if isinstance(max_blocks, bool) or not isinstance(max_blocks, (int, np.integer)) or max_blocks < 1:
        raise ParameterError("max_blocks", f"expected an integer >= 1, got {max_blocks!r}")
    if isinstance(max_passes, bool) or not isinstance(max_passes, (int, np.integer)) or max_passes < 1:
        raise ParameterError("max_passes", f"expected an integer >= 1, got {max_passes!r}")

    pue = np.asarray(sub["pue"].values, dtype=float)
    capacity = np.asarray(sub["capacity"].values, dtype=float)
    capacity = np.where(np.isfinite(capacity), capacity, np.inf)
    eff = _positive("serving_efficiency", serving_efficiency)
    inst_chips, inst_power, inst_capacity, attrs = _installed(scenario, idx, eff, brownfield)
    # power-limited bound at the lowest TDP on offer, after the installed chips (the site_power
    # constraint covers the rest)
    spare_w = np.maximum(capacity - inst_power * pue, 0.0)
    power_bound = np.floor(spare_w / (blocks_per * tdp.min() * pue))
    upper = np.minimum(np.where(np.isfinite(power_bound), power_bound, max_blocks), max_blocks).astype(int)

    # demand and latency
    dev = scenario["device"]
    if dev.sizes.get("device", 0) == 0:
        raise ParameterError("tokens_per_capita_day", "the scenario has no device groups: there is no demand")
    tpd = _positive("tokens_per_capita_day", tokens_per_capita_day, allow_zero=True)
    fpt = _positive("flop_per_token", flop_per_token)
    demand = np.asarray(dev["endpoints"].values, dtype=float) * tpd * fpt / 86400.0
    tech = np.asarray(dev["access_tech"].values, dtype=str)
    unknown_tech = sorted(set(tech.tolist()) - set(lat.ACCESS_DELAY_MS))
    if unknown_tech:
        raise ParameterError("latency_budget_ms", f"no access delay known for access_tech {unknown_tech}")
    default_budget = _positive("latency_budget_ms", latency_budget_ms)
    budget = np.asarray(dev["latency_budget"].values, dtype=float)
    budget = np.where(np.isfinite(budget), budget, default_budget)
    try:
        latency_ms, _ = _paths.group_site_latency(scenario, idx, layer=layer, include_access=True,
                                                  path_model=path_model)
    except WorkbenchError as err:
        raise ParameterError("layer" if "layer" in str(err) else "path_model", str(err)) from None
    latency_ms = np.where(latency_ms <= budget[:, None], latency_ms, np.inf)
    reachable = np.isfinite(latency_ms).any(axis=1)

    hub = np.asarray(sub["hub"].values, dtype=object)
    S = len(idx)
    if not isinstance(hourly, (bool, np.bool_)):
        raise ParameterError("hourly", f"expected true or false, got {hourly!r}")
    if green is None:                # default: green power with the hourly model; milestone-1 results stay put
        green = bool(hourly)
    if not isinstance(green, (bool, np.bool_)):
        raise ParameterError("green", f"expected true or false, got {green!r}")
    idle = _positive("idle_power_share", idle_power_share, allow_zero=True)
    if idle > 1:
        raise ParameterError("idle_power_share", f"expected a share in [0, 1], got {idle_power_share!r}")
    green_cap, green_price, source, province = _green_attrs(sub, S, green)
    for sid, w in (green_capacity or {}).items():
        where = np.flatnonzero(ids[idx] == str(sid))
        if not where.size:
            raise ParameterError("green_capacity", f"{sid!r} is not a candidate site")
        if green:
            green_cap[where] = _positive(f"green_capacity.{sid}", w, allow_zero=True)
    time_axis: dict = {}
    cf_mean = np.zeros(S)
    if hourly or green_cap.any():
        prof = _profiles("hourly" if hourly else "green")
        try:
            snaps, weights = prof.representative_days(**({} if profile_year is None else {"year": profile_year}))
            lon_s, lat_s = (np.asarray(sub[c].values, dtype=float) for c in ("lon", "lat"))
            cf_t = np.zeros((len(snaps), S))
            if green_cap.any():
                cf_t = np.asarray(prof.green_cf(source, lon_s, lat_s, province, snaps), dtype=float).reshape(-1, S)
            weights = np.asarray(weights, dtype=float)
            cf_mean = (cf_t * weights[:, None]).sum(axis=0) / weights.sum()
            if hourly:
                cls = (np.asarray(dev["class"].values, dtype=object) if "class" in dev
                       else np.full(len(demand), "resident", dtype=object))
                shape = np.asarray(prof.demand_shape(cls, snaps), dtype=float).reshape(len(snaps), -1)
                demand_t = demand[None, :] * shape
                time_axis = dict(
                    hourly=True, weights_h=weights, demand_t=demand_t,
                    reachable_demand_t=demand_t[:, reachable].sum(axis=1),
                    tou=np.asarray(prof.tou_multiplier(province, snaps), dtype=float).reshape(-1, S),
                    green_cf_t=cf_t,
                    carbon_mult=np.asarray(prof.carbon_multiplier(province, snaps), dtype=float).reshape(-1, S))
        except WorkbenchError as err:
            raise ParameterError("hourly" if hourly else "green", f"profiles: {err}") from None
    context = PlacementContext(
        site=ids[idx], tier=tier, hub=hub, lon=np.asarray(sub["lon"].values, dtype=float),
        lat=np.asarray(sub["lat"].values, dtype=float), pue=pue,
        power_price=np.asarray(sub["power_price"].values, dtype=float),
        carbon_intensity=np.asarray(sub["carbon_intensity"].values, dtype=float), capacity_w=capacity,
        block=blocks_per, west=np.isin(hub, WEST_HUBS), chip=np.asarray(chips, dtype=object), chip_flops=flops,
        chip_tdp_w=tdp, chip_price_cny=price_cny, latency_ms=latency_ms, demand=demand,
        reachable_demand=float(demand[reachable].sum()),
        serving_efficiency=eff,
        utilisation=_positive("utilisation", utilisation), lifetime_yr=_positive("lifetime_yr", lifetime_yr),
        max_passes=int(max_passes), installed_chips=inst_chips, installed_it_power_w=inst_power,
        installed_capacity=inst_capacity, green_capacity_w=green_cap, green_price=green_price,
        green_cf_mean=cf_mean, idle_power_share=idle, **time_axis)
    variables = [Integer(f"{s}.blocks", 0, int(u), units="1", long_name=f"blocks of {int(b)} chips at {s}")
                 for s, u, b in zip(context.site, upper, blocks_per)]
    if len(chips) > 1:
        variables += [Choice(f"{s}.chip", chips, long_name=f"chip type at {s}") for s in context.site]
    return Space(tuple(variables), context=context, decode=decode_placement, sample=sample_placement,
                 describe=describe_placement, name="placement",
                 attrs={"demand_flops": float(demand.sum()), "reachable_demand_flops": context.reachable_demand,
                        "brownfield": bool(brownfield), "hourly": bool(hourly), **attrs})


def _profiles(param: str):
    """:mod:`workbench.profiles`, or a parameter error naming ``param`` where it is not installed."""
    from .study import ParameterError

    try:
        from .. import profiles
    except ImportError as err:  # pragma: no cover - the module ships with the workbench
        raise ParameterError(param, f"needs the hourly profiles (workbench.profiles): {err}") from None
    return profiles


def _installed(scenario, idx: np.ndarray, eff: float, brownfield: bool):
    """Installed chips, their TDP sum [W] and delivered capacity [FLOP/s] at the candidate sites ``idx``
    (zeros unless ``brownfield``), and attrs on the inventory left out (at non-candidate sites)."""
    from .study import ParameterError

    S = len(idx)
    if not brownfield:
        return np.zeros(S), np.zeros(S), np.zeros(S), {}
    inv = np.asarray(scenario.inventory.transpose("site", "chip").values, dtype=float)       # (all sites, C)
    inv = np.where(np.isfinite(inv), inv, 0.0)
    cat = scenario["chip"].sel(chip=scenario.inventory["chip"].values)
    flops = np.asarray(cat["bf16_flops"].values, dtype=float)
    tdp = np.asarray(cat["tdp"].values, dtype=float)
    bad = (inv.sum(axis=0) > 0) & ~(np.isfinite(flops) & (flops > 0) & np.isfinite(tdp) & (tdp > 0))
    if bad.any():
        names = np.asarray(cat["chip"].values, dtype=object)[bad].tolist()
        raise ParameterError("brownfield", f"installed chips {names} need a positive bf16_flops and tdp in the "
                                           "chip catalogue to count as capacity")
    flops, tdp = np.where(np.isfinite(flops), flops, 0.0), np.where(np.isfinite(tdp), tdp, 0.0)
    here = inv[idx]
    others = np.setdiff1d(np.arange(inv.shape[0]), idx)
    left = inv[others].sum(axis=1)
    site_ids = np.asarray(scenario["site"]["site"].values, dtype=object)
    attrs = {"installed_chips": float(here.sum()),
             "installed_chips_ignored": float(left.sum()),
             "installed_ignored_sites": " ".join(str(s) for s in site_ids[others][left > 0])}
    return here.sum(axis=1), here @ tdp, (here @ flops) * eff, attrs


def _green_attrs(sub, S: int, green: bool):
    """Contracted green nameplate [W], price [CNY/kWh], source and province per candidate site, with the
    fallbacks of a schema without the ``green_*`` attributes (no green power, :data:`GREEN_PRICE`,
    :data:`GREEN_SOURCE`) and an empty province where the sites give none."""
    from .study import ParameterError

    def column(name, default, dtype):
        if name not in sub:
            return np.full(S, default, dtype=dtype)
        v = np.asarray(sub[name].values, dtype=dtype)
        if dtype is float:
            return np.where(np.isfinite(v), v, default)
        return np.array([default if (x is None or (isinstance(x, float) and x != x) or not str(x).strip())
                         else str(x).strip() for x in v], dtype=object)

    cap = column("green_capacity", 0.0, float) if green else np.zeros(S)
    price = column("green_price", GREEN_PRICE, float)
    if np.any(cap < 0) or np.any(price < 0):
        raise ParameterError("green", "green_capacity and green_price must be >= 0")
    return cap, price, column("green_source", GREEN_SOURCE, object), column("province", "", object)


# --------------------------------------------------------------------------- evaluation


def serve(ctx: PlacementContext, capacity: np.ndarray, demand: np.ndarray | None = None, *,
          site_load: bool = False, max_bytes: float = SERVE_CHUNK_BYTES):
    """Nearest-first serving of demand by site capacities, row by row (rows are independent).

    Parameters
    ----------
    ctx : PlacementContext
    capacity : ndarray, shape (n, S)
        Delivered compute per site [FLOP/s] of each row (a candidate, or a candidate at a snapshot).
    demand : ndarray, shape (n, M) or (M,), optional
        Demand per device group [FLOP/s] of each row; default the context's annual-average demand.
    site_load : bool
        Also return the load served per site.
    max_bytes : float
        Memory bound of one chunk of rows [byte] (:data:`SERVE_CHUNK_BYTES`); rows are served chunk by
        chunk, each chunk vectorised.

    Returns
    -------
    served : ndarray, shape (n,)
        Demand served [FLOP/s].
    latency_sum : ndarray, shape (n,)
        Sum over served flows of flow x one-way latency [FLOP/s x ms] (divide by ``served`` for the
        demand-weighted mean latency).
    load : ndarray, shape (n, S)
        Only with ``site_load``: compute served at each site [FLOP/s].
    """
    capacity = np.asarray(capacity, dtype=float)
    n, S = capacity.shape
    M = len(ctx.demand)
    demand = ctx.demand if demand is None else np.asarray(demand, dtype=float)
    demand = np.broadcast_to(demand, (n, M))
    tol = 1e-9 * max(float(ctx.demand.max(initial=0.0)), float(demand.max(initial=0.0)), 1.0)
    step = max(1, int(max_bytes // (3 * 8 * max(M * S, 1))))
    served = np.zeros(n)
    latency_sum = np.zeros(n)
    load = np.zeros((n, S))
    for a in range(0, n, step):
        b = min(n, a + step)
        served[a:b], latency_sum[a:b], load[a:b] = _serve_rows(ctx, capacity[a:b], demand[a:b], tol)
    return (served, latency_sum, load) if site_load else (served, latency_sum)


def _serve_rows(ctx: PlacementContext, capacity: np.ndarray, demand: np.ndarray, tol: float):
    """:func:`serve` on one chunk of rows."""
    n, S = capacity.shape
    rem = demand.copy()
    resid = capacity.copy()
    served = np.zeros(n)
    latency_sum = np.zeros(n)
    rows = np.arange(n)[:, None]
    lat_b = ctx.latency_ms[None, :, :]
    for _ in range(ctx.max_passes):
        open_ = resid > tol
        cand = np.where(open_[:, None, :], lat_b, np.inf)                  # (n, M, S)
        j = np.argmin(cand, axis=2)                                         # (n, M)
        lj = np.take_along_axis(cand, j[:, :, None], axis=2)[:, :, 0]       # (n, M)
        del cand
        w = np.where(np.isfinite(lj) & (rem > tol), rem, 0.0)
        if not np.any(w > 0):
            break
        load = np.bincount((rows * S + j).ravel(), weights=w.ravel(), minlength=n * S).reshape(n, S)
        ratio = np.where(load > 0, np.minimum(1.0, resid / np.where(load > 0, load, 1.0)), 0.0)
        got = w * ratio[rows, j]
        resid = np.where(load > 0, resid - load * ratio, resid)
        rem = rem - got
        served += got.sum(axis=1)
        latency_sum += (got * np.where(w > 0, lj, 0.0)).sum(axis=1)
    return served, latency_sum, capacity - resid


def decode_placement(ctx: PlacementContext, X: np.ndarray) -> PlacementState:
    """Decode ``X`` (``(n, n_var)`` or one row) and simulate serving, cost and CO2 (annual or hourly)."""
    X = np.atleast_2d(np.asarray(X, dtype=float))
    S = ctx.n_site
    blocks = np.rint(X[:, :S])
    choice = np.rint(X[:, S:2 * S]).astype(np.int64) if ctx.n_chip > 1 else np.zeros(blocks.shape, np.int64)
    choice = np.clip(choice, 0, ctx.n_chip - 1)
    chips = blocks * ctx.block[None, :]
    added_power = chips * ctx.chip_tdp_w[choice]
    capacity = chips * ctx.chip_flops[choice] * ctx.serving_efficiency
    it_power = added_power
    if ctx.installed_chips is not None and np.any(ctx.installed_chips > 0):
        it_power = added_power + ctx.installed_it_power_w[None, :]
        capacity = capacity + ctx.installed_capacity[None, :]
    capex = (chips * ctx.chip_price_cny[choice]).sum(axis=1) / ctx.lifetime_yr
    green_cap = ctx.green_capacity_w if ctx.green_capacity_w is not None else np.zeros(S)
    green_price = ctx.green_price if ctx.green_price is not None else np.full(S, GREEN_PRICE)
    if ctx.hourly:
        served, share, mean_lat, energy_kwh, green_kwh, opex, co2 = _hourly(ctx, capacity, it_power, green_cap,
                                                                            green_price)
    else:
        served, latency_sum = serve(ctx, capacity)
        facility_w = it_power * ctx.utilisation * ctx.pue[None, :]           # average [W]
        energy_kwh = facility_w * HOURS_PER_YEAR / 1000.0
        if np.any(green_cap > 0):
            cf = ctx.green_cf_mean if ctx.green_cf_mean is not None else np.zeros(S)
            green_kwh = np.minimum(green_cap * cf, facility_w) * HOURS_PER_YEAR / 1000.0
        else:
            green_kwh = np.zeros_like(energy_kwh)
        grid_kwh = energy_kwh - green_kwh
        opex = (grid_kwh * ctx.power_price[None, :] + green_kwh * green_price[None, :]).sum(axis=1)
        co2 = (grid_kwh * ctx.carbon_intensity[None, :]).sum(axis=1)
        share = served / ctx.reachable_demand if ctx.reachable_demand > 0 else np.ones_like(served)
        mean_lat = np.where(served > 0, latency_sum / np.where(served > 0, served, 1.0), np.inf)
    total = energy_kwh.sum(axis=1)
    renewable = np.where(total > 0, green_kwh.sum(axis=1) / np.where(total > 0, total, 1.0), 0.0)
    return PlacementState(blocks=blocks, choice=choice, chips=chips, it_power_w=it_power, energy_kwh=energy_kwh,
                          served=served, served_share=share, mean_latency_ms=mean_lat,
                          cost_mcny=(capex + opex) / 1e6, co2_kt=co2 / 1e6, added_it_power_w=added_power,
                          green_kwh=green_kwh, renewable_share=renewable)


def _hourly(ctx: PlacementContext, capacity, it_power, green_cap, green_price):
    """Serving, energy, cost and CO2 over the representative snapshots (module docstring), vectorised over
    candidates x snapshots (:func:`serve` chunks the rows to bound memory).

    Returns annual weighted served demand [FLOP/s] (mean over the year), served share, mean latency [ms],
    facility and green energy per site [kWh/yr], electricity cost [CNY/yr] and CO2 [kg/yr].
    """
    n, S = capacity.shape
    w = ctx.weights_h                                                      # (T,) [h]
    T = len(w)
    cap_rows = np.repeat(capacity, T, axis=0)                              # (n T, S), row = (candidate, t)
    dem_rows = np.tile(ctx.demand_t, (n, 1))                               # (n T, M)
    served, latency_sum, load = serve(ctx, cap_rows, dem_rows, site_load=True)
    served, latency_sum = served.reshape(n, T), latency_sum.reshape(n, T)
    cap3 = capacity[:, None, :]
    util = np.where(cap3 > 0, load.reshape(n, T, S) / np.where(cap3 > 0, cap3, 1.0), 0.0)
    util = np.clip(util, 0.0, 1.0)
    idle = ctx.idle_power_share
    facility_w = it_power[:, None, :] * (idle + (1.0 - idle) * util) * ctx.pue[None, None, :]   # (n, T, S)
    green_w = np.minimum(green_cap[None, None, :] * ctx.green_cf_t[None, :, :], facility_w)
    grid_w = facility_w - green_w
    wt = w[None, :, None] / 1000.0                                         # [h] x W -> kWh
    energy_kwh = (facility_w * wt).sum(axis=1)
    green_kwh = (green_w * wt).sum(axis=1)
    opex = ((grid_w * (ctx.power_price[None, None, :] * ctx.tou[None, :, :])
             + green_w * green_price[None, None, :]) * wt).sum(axis=(1, 2))
    co2 = (grid_w * (ctx.carbon_intensity[None, None, :] * ctx.carbon_mult[None, :, :]) * wt).sum(axis=(1, 2))
    served_h = served @ w                                                  # [FLOP/s x h]
    need_h = float(ctx.reachable_demand_t @ w)
    share = served_h / need_h if need_h > 0 else np.ones(n)
    mean_lat = np.where(served_h > 0, (latency_sum @ w) / np.where(served_h > 0, served_h, 1.0), np.inf)
    return served_h / w.sum(), share, mean_lat, energy_kwh, green_kwh, opex, co2


def sample_placement(ctx: PlacementContext, random_state: np.random.Generator, n: int) -> np.ndarray:
    """Initial population: total capacity 1-2x the demand, spread over sites by a Dirichlet(0.5) draw.

    Hourly: 1-2x the peak hour's demand. Brownfield: 1-2x what the installed capacity lacks (at least
    a tenth of the need).

    Uniform integer sampling would install ~30x the demand on average; starting near the
    feasible region lets the algorithm spend its generations on the trade-off. Chip choices are
    uniform. Uses only ``random_state`` (the algorithm's generator): deterministic for a seed.
    """
    S, C = ctx.n_site, ctx.n_chip
    scale = random_state.uniform(1.0, 2.0, size=n)
    weights = random_state.dirichlet(np.full(S, 0.5), size=n)
    choice = random_state.integers(0, C, size=(n, S)) if C > 1 else np.zeros((n, S), np.int64)
    demand = ctx.demand_t.sum(axis=1).max() if ctx.hourly else ctx.demand.sum()   # hourly: the peak hour
    need = demand / ctx.serving_efficiency                               # peak FLOP/s to install
    if ctx.installed_capacity is not None and np.any(ctx.installed_capacity > 0):
        # brownfield: add what the installed chips lack (at least a tenth of the need, for spread)
        need = max(need - ctx.installed_capacity.sum() / ctx.serving_efficiency, 0.1 * need)
    chips = scale[:, None] * weights * need / ctx.chip_flops[choice]
    blocks = np.rint(chips / ctx.block[None, :])
    X = blocks if C == 1 else np.concatenate([blocks, choice.astype(float)], axis=1)
    return X


def describe_placement(ctx: PlacementContext, X: np.ndarray) -> xr.Dataset:
    """Per-solution chips per site, chip types and shares, for results and maps."""
    st = decode_placement(ctx, X)
    n = len(X)
    flops = st.chips * ctx.chip_flops[st.choice]
    total = flops.sum(axis=1)
    safe = np.where(total > 0, total, 1.0)
    edge = np.isin(ctx.tier, ["metro_edge", "bs_edge", "cpe"])
    ds = xr.Dataset(coords={
        "solution": ("solution", np.arange(n)),
        "site": ("site", np.asarray(ctx.site, dtype=object), {"long_name": "site id"}),
        "site_lon": ("site", ctx.lon, {"units": "degree_east", "long_name": "longitude"}),
        "site_lat": ("site", ctx.lat, {"units": "degree_north", "long_name": "latitude"}),
        "site_tier": ("site", np.asarray(ctx.tier, dtype=object), {"long_name": "site tier"}),
        "site_hub": ("site", np.asarray(ctx.hub, dtype=object), {"long_name": "EDWC hub"}),
        "site_west": ("site", ctx.west, {"long_name": "in a western EDWC hub", "units": "1"}),
    })
    ds["chips"] = (("solution", "site"), st.chips, {"units": "1", "long_name": "accelerators added"})
    installed = ctx.installed_chips if ctx.installed_chips is not None else np.zeros(ctx.n_site)
    ds["installed_chips"] = ("site", installed, {"units": "1", "long_name": "accelerators installed before "
                                                 "the study (brownfield; 0 in greenfield)"})
    ds["chip_type"] = (("solution", "site"), np.where(st.chips > 0, np.asarray(ctx.chip, dtype=object)[st.choice], ""),
                       {"long_name": "accelerator type"})
    ds["site_flops"] = (("solution", "site"), flops, {"units": "FLOP/s", "long_name": "added dense BF16 peak"})
    ds["site_it_power"] = (("solution", "site"), st.it_power_w,
                           {"units": "W", "long_name": "accelerator TDP sum (installed + added)"})
    ds["served_share"] = ("solution", st.served_share, {"units": "1", "long_name": "share of reachable demand served"})
    ds["west_share"] = ("solution", (flops * ctx.west[None, :]).sum(axis=1) / safe,
                        {"units": "1", "long_name": "share of installed compute in western hubs"})
    ds["edge_share"] = ("solution", (flops * edge[None, :]).sum(axis=1) / safe,
                        {"units": "1", "long_name": "share of installed compute at edge sites"})
    ds["total_chips"] = ("solution", st.chips.sum(axis=1), {"units": "1", "long_name": "accelerators added"})
    ds["renewable_share"] = ("solution", st.renewable_share,
                             {"units": "1", "long_name": "contracted green energy / facility energy"})
    return ds


# --------------------------------------------------------------------------- objectives and constraints


def annual_cost(ctx: PlacementContext, state: PlacementState) -> np.ndarray:
    """Amortised accelerator capex + electricity [MCNY/yr]."""
    return state.cost_mcny


def mean_latency(ctx: PlacementContext, state: PlacementState) -> np.ndarray:
    """Demand-weighted (population-weighted) one-way latency of served demand [ms]."""
    return state.mean_latency_ms


def annual_co2(ctx: PlacementContext, state: PlacementState) -> np.ndarray:
    """CO2 of the electricity at the sites' grid carbon intensity [kt/yr]."""
    return state.co2_kt


def renewable_share(ctx: PlacementContext, state: PlacementState) -> np.ndarray:
    """Contracted green energy used / facility energy over the year [1] (maximise)."""
    return state.renewable_share


def demand_served(ctx: PlacementContext, state: PlacementState, min_share: float = 0.99) -> np.ndarray:
    """``min_share - served share`` [1] (<= 0: at least ``min_share`` of reachable demand served).

    ``min_share`` default 0.99 is **assumed** (a service level, not a sourced target).
    """
    return float(min_share) - state.served_share


def site_power(ctx: PlacementContext, state: PlacementState) -> np.ndarray:
    """Summed excess of IT power x PUE over the sites' power capacity [MW] (<= 0 feasible)."""
    facility = state.it_power_w * ctx.pue[None, :]
    excess = np.maximum(0.0, facility - ctx.capacity_w[None, :])
    return np.where(np.isfinite(excess), excess, 0.0).sum(axis=1) / 1e6


def pue_target(ctx: PlacementContext, state: PlacementState, max_pue: float = 1.3) -> np.ndarray:
    """IT-power-weighted average PUE of the added chips minus ``max_pue`` [1] (<= 0 feasible; 0 chips count
    as feasible; brownfield: installed chips do not count, the target is for new capacity).

    ``max_pue`` default 1.3: the Dec 2021 NDRC/CAC/MIIT/NEA target for new large and hyperscale
    data centres (average PUE < 1.3, FIGURES 1.2 [S]); national hub nodes: 1.25.
    """
    added = state.added_it_power_w if state.added_it_power_w is not None else state.it_power_w
    it = added.sum(axis=1)
    avg = np.where(it > 0, (added * ctx.pue[None, :]).sum(axis=1) / np.where(it > 0, it, 1.0), 0.0)
    return avg - float(max_pue)
