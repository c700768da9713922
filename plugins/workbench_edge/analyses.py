"""Scenario-level analyses of the edge plugin: ``serving``, ``routing``, ``cascade``, ``disaggregation``.

Each is a pure function ``f(scenario, **params) -> xr.Dataset`` registered through
``workbench_analyses`` (``wb.analyze("routing", sc)``). Documented modelling choices:

* **Pools.** A pool is one chip type at one site with chips in the inventory. Its configuration for a
  request class: the model of the class, ``fp8`` if both chip and model support it (else ``bf16``),
  and the tensor-parallel degree in 1, 2, 4, 8 (the scale-up domain) that serves the most requests
  per chip at its operating point (``serving``: the most output tokens/s per chip at its maximum batch). Chips left over when the count is not a multiple of ``tp`` idle. A pool where no
  configuration fits, or a chip with no scale-up bandwidth needing ``tp > 1``, has capacity 0
  (``pool_feasible`` false).
* **Operating point.** The largest batch whose processing latency leaves ``latency_reserve`` (25%) of
  the SLO for network and queueing: TTFT <= 0.75 TTFT SLO, TPOT <= TPOT SLO, and for classes with an
  end-to-end SLO, TTFT + (osl - 1) TPOT <= 0.75 e2e SLO. Capacity = replicas x batch / cycle x
  ``max_utilisation`` (0.9, assumed: keeps the M/G/c queue stable).
* **Cost per request.** Chip energy per request x site PUE (facility energy) x site ``power_price``
  [CNY/kWh]; energy [J] and carbon [kg] (x ``carbon_intensity``) likewise. Hardware is not priced
  (the chip catalogue has no sourced prices).
* **Demand.** ``device.endpoints`` x ``device.demand`` [request/s per endpoint] or, where that is
  0, the class's ``rate_per_endpoint`` (assumed; ``datasets/models/request_classes.csv``).
* **Latency.** The core path model (:mod:`workbench.paths`): one-way = access delay of the group's
  ``access_tech`` (core ``ACCESS_DELAY_MS``) + metro fibre from the group centre to its access PoP +
  0.1 ms metro equipment + the shortest path over the link graph on the ``ip`` layer (inference
  requests ride an IP network; ``layer=`` to change) + the site's ``hop_delay``. The SLO check uses the
  round trip: ``2 x one-way + processing <= SLO``. ``path_model="direct"`` is the named milestone-1
  approximation (great circle x ``route_factor`` + 2 x 0.1 ms, no graph, no link capacities).
* **Links.** Each served request puts the class's ``request_bytes`` on every link of its path towards
  the site and ``response_bytes`` back (``datasets/models/request_classes.csv``, assumed payloads);
  link directions with a known ``capacity`` [bit/s] are LP constraints. The result reports the load
  and utilisation of every link direction and which ones bind (LP dual < 0).
* **Plugin attributes.** ``device.edge_request_class`` (default ``chat``): only groups of the routed
  class generate its demand; ``site.edge_serving`` (default true): false excludes a site's pools.
* **West.** A site is western when its province is one of the 12 provincial units of China's Western
  Development programme (:data:`WESTERN_PROVINCES`); requests "go west" when a group outside them is
  served there.
"""

from __future__ import annotations

import json
import math
from types import SimpleNamespace

import numpy as np
import xarray as xr

from workbench import latency as _lat
from workbench import paths as _paths

from . import cascade as _cascade
from . import catalogue as _cat
from . import queueing as _q
from . import routing as _routing
from .catalogue import EdgeError, chip_spec, model_spec, request_class
from .disagg import disaggregation as _disaggregation
from .serving import ServingParams, serving, summary

__all__ = ["DEFAULT_LATENCY_RESERVE", "DEFAULT_MAX_UTILISATION", "WESTERN_PROVINCES", "cascade_analysis",
           "disaggregation_analysis", "pool_table", "routing_analysis", "serving_analysis"]

#: The 12 provincial units of the Western Development programme (State Council, 2000): the team's
#: definition of "the west" (assumed standard list; no URL retrieved).
WESTERN_PROVINCES = ("Chongqing", "Sichuan", "Guizhou", "Yunnan", "Tibet", "Shaanxi", "Gansu", "Qinghai",
                     "Ningxia", "Xinjiang", "Inner Mongolia", "Guangxi")

#: Request class of a device group whose ``edge_request_class`` is empty (the attribute's default).
DEFAULT_REQUEST_CLASS = "chat"
#: Share of each SLO kept for network and queueing when choosing a pool's batch [1] (assumed 0.25).
DEFAULT_LATENCY_RESERVE = 0.25
#: Highest planned utilisation of a pool's request capacity [1] (assumed 0.9).
DEFAULT_MAX_UTILISATION = 0.9
#: One-way equipment delay added to every device-site path [ms]: metro + long-haul ends, 2 x 0.1 ms.
PATH_EQUIPMENT_MS = 2 * _lat.DEFAULT_HOP_DELAY_MS
TP_CHOICES = (1, 2, 4, 8)


def _params(serving_params) -> ServingParams:
    if serving_params is None:
        return ServingParams()
    if isinstance(serving_params, ServingParams):
        return serving_params
    return ServingParams().replace(**dict(serving_params))


def _slo_s(rc: dict, key: str) -> float:
    v = rc.get(key, math.nan)
    return float(v) / 1e3 if v is not None and np.isfinite(v) else math.inf


def _configs(model, chip, dtype, isl, osl, params, chips):
    """Every tensor-parallel degree in 1, 2, 4, 8 that holds the model and one sequence: [(tp, dtype, ds)]."""
    c = chip_spec(chip, chips)
    m = model_spec(model)
    if dtype is None:
        dtype = "fp8" if ("fp8" in m.dtypes and np.isfinite(c.flops.get("fp8", np.nan))) else "bf16"
    out = []
    for tp in TP_CHOICES:
        try:
            ds = serving(m, c, tp, dtype, isl, osl, tp=tp, params=params, chips=chips)
        except EdgeError:
            break
        if int(ds["max_batch"]) >= 1:
            out.append((tp, dtype, ds))
    return out


def _operating_point(ds: xr.Dataset, rc: dict, osl: int, reserve: float):
    ttft_slo = _slo_s(rc, "ttft_slo")
    tpot_slo = _slo_s(rc, "tpot_slo")
    e2e_slo = _slo_s(rc, "e2e_slo")
    proc = ds["ttft"] + (osl - 1) * ds["tpot"]
    ok = ds["feasible"].values & (ds["ttft"].values <= (1 - reserve) * ttft_slo) & (ds["tpot"].values <= tpot_slo)
    ok &= proc.values <= (1 - reserve) * e2e_slo
    if not ok.any():
        return None
    return int(ds["batch"].values[ok].max())


def pool_table(scenario, request_class_id: str = "chat", model: str | None = None, dtype: str | None = None,
               isl: int | None = None, osl: int | None = None, serving_params=None,
               latency_reserve: float = DEFAULT_LATENCY_RESERVE,
               max_utilisation: float = DEFAULT_MAX_UTILISATION) -> xr.Dataset:
    """Serving pools of a scenario (one per site and chip type with chips) for a request class.

    Returns
    -------
    xr.Dataset
        Over ``pool``: ``site``/``chip`` ids, ``capacity`` [request/s], ``processing`` latency at the
        operating batch (``ttft`` [s], ``tpot`` [s], ``process`` [s] = TTFT for TTFT classes or
        TTFT + (osl - 1) TPOT for end-to-end classes), ``energy_per_request`` [J] (chips),
        ``facility_energy`` [J] (x PUE), ``cost_per_request`` [CNY], ``carbon_per_request`` [kg],
        ``servers`` [1] (replicas x batch, for queueing), ``cycle`` [s], ``pool_feasible``, ``tp``,
        ``batch``, ``dtype``.
    """
    params = _params(serving_params)
    rc = request_class(request_class_id)
    model = model or rc["model"]
    isl = int(isl or rc["input_tokens"])
    osl = int(osl or rc["output_tokens"])
    inv = scenario.inventory
    chips = scenario["chip"]
    site = scenario["site"]
    configs = {}
    for chip in inv["chip"].values[(inv.sum("site") > 0).values]:
        best = None
        for tp, dt, ds in _configs(model, str(chip), dtype, isl, osl, params, chips):
            b = _operating_point(ds, rc, osl, latency_reserve)
            if b is None:
                continue
            row = ds.sel(batch=b)
            cycle = b * float(ds["prefill_time"]) + osl * float(row["decode_step"])
            cfg = {"tp": tp, "dtype": dt, "batch": b, "ttft": float(row["ttft"]), "tpot": float(row["tpot"]),
                   "cycle": cycle, "replica_rate": b / cycle, "energy": float(row["energy_per_request"])}
            if best is None or cfg["replica_rate"] / tp > best["replica_rate"] / best["tp"]:
                best = cfg                      # the tp serving the most requests per chip within the SLOs
        configs[str(chip)] = best
    s_idx, c_idx = np.nonzero(inv.values > 0)
    chip_ids = inv["chip"].values[c_idx].astype(str)
    n = s_idx.size
    cap = np.zeros(n)
    servers = np.zeros(n)
    feasible = np.zeros(n, bool)
    fields = {k: np.full(n, np.nan) for k in ("ttft", "tpot", "cycle", "energy", "tp", "batch")}
    dts = np.full(n, "", dtype=object)
    for chip, cfg in configs.items():
        sel = chip_ids == chip
        if cfg is None or not sel.any():
            continue
        replicas = np.floor(inv.values[s_idx[sel], c_idx[sel]] / cfg["tp"])
        cap[sel] = replicas * cfg["replica_rate"] * max_utilisation
        servers[sel] = replicas * cfg["batch"]
        feasible[sel] = replicas > 0
        for k in fields:
            fields[k][sel] = cfg[k]
        dts[sel] = cfg["dtype"]
    pue = site["pue"].values[s_idx]
    price = site["power_price"].values[s_idx]
    carbon = site["carbon_intensity"].values[s_idx]
    facility = fields["energy"] * pue
    kwh = facility / 3.6e6
    if osl > 1 and np.isfinite(_slo_s(rc, "e2e_slo")):
        process = fields["ttft"] + (osl - 1) * fields["tpot"]
    else:
        process = fields["ttft"]
    p = ("pool",)
    ds = xr.Dataset(
        {
            "site": (p, site["site"].values[s_idx].astype(object), {"long_name": "site id"}),
            "chip": (p, chip_ids.astype(object), {"long_name": "chip id"}),
            "capacity": (p, cap, {"units": "request/s", "long_name": "planned request capacity"}),
            "servers": (p, servers, {"units": "1", "long_name": "concurrent sequences (replicas x batch)"}),
            "cycle": (p, fields["cycle"], {"units": "s", "long_name": "request lifetime in a slot"}),
            "ttft": (p, fields["ttft"], {"units": "s", "long_name": "time to first token at the operating batch"}),
            "tpot": (p, fields["tpot"], {"units": "s", "long_name": "time per output token at the operating batch"}),
            "process": (p, process, {"units": "s", "long_name": "processing latency counted against the SLO"}),
            "energy_per_request": (p, fields["energy"], {"units": "J", "long_name": "chip energy per request"}),
            "facility_energy": (p, facility, {"units": "J", "long_name": "facility energy per request (x PUE)"}),
            "cost_per_request": (p, kwh * price, {"units": "CNY", "long_name": "electricity cost per request"}),
            "carbon_per_request": (p, kwh * carbon, {"units": "kg", "long_name": "CO2 per request"}),
            "tp": (p, fields["tp"], {"units": "1", "long_name": "tensor-parallel degree"}),
            "batch": (p, fields["batch"], {"units": "1", "long_name": "operating batch per replica"}),
            "dtype": (p, dts, {"long_name": "number format"}),
            "pool_feasible": (p, feasible, {"units": "1", "long_name": "pool can serve the class"}),
        },
        coords={"pool": ("pool", np.array([f"{s}/{c}" for s, c in zip(site["site"].values[s_idx], chip_ids,
                                                                          strict=True)], dtype=object))},
    )
    ds.attrs.update({"request_class": request_class_id, "model": model, "isl": isl, "osl": osl,
                     "site_index_json": json.dumps(s_idx.tolist()), "latency_reserve": latency_reserve,
                     "max_utilisation": max_utilisation})
    return ds


def serving_analysis(scenario, model: str = "llama-3.1-70b", dtype: str | None = None, isl: int = 1000,
                     osl: int = 1000, serving_params=None) -> xr.Dataset:
    """Serving curves of every chip type installed in the scenario for one model.

    Each chip type gets the tensor-parallel degree with the most output tokens/s per chip (module docstring).

    Returns
    -------
    xr.Dataset
        Over ``chip`` x ``batch``: ``throughput`` [token/s] per replica, ``ttft`` [s], ``tpot`` [s],
        ``tokens_per_joule`` [token/J], ``feasible``; over ``chip``: ``max_batch``, ``tp``,
        ``installed_chips``, ``site_throughput_total`` [token/s] (all installed chips at max batch).
    """
    params = _params(serving_params)
    inv = scenario.inventory.sum("site")
    chips = [str(c) for c in inv["chip"].values[(inv > 0).values]]
    if not chips:
        raise EdgeError(f"scenario {scenario.name!r} has no chips in its inventory")
    results, tps, dts = [], [], []
    for chip in chips:
        cfgs = _configs(model, chip, dtype, isl, osl, params, scenario["chip"])
        if not cfgs:
            continue
        # the tp with the highest output throughput per chip at its maximum batch
        tp, dt, _ = max(cfgs, key=lambda t: float(t[2]["throughput"].max()) / t[0])
        ds = serving(model, chip, tp, dt, isl, osl, tp=tp, batch=np.unique(np.round(np.geomspace(1, 4096, 25))),
                     params=params, chips=scenario["chip"])
        results.append(ds[["throughput", "ttft", "tpot", "tokens_per_joule", "feasible", "max_batch"]]
                       .expand_dims(chip=[chip]))
        tps.append(tp)
        dts.append(dt)
    if not results:
        raise EdgeError(f"{model} fits none of the installed chip types with tp <= 8")
    out = xr.concat(results, dim="chip")
    out["tp"] = ("chip", np.array(tps, float), {"units": "1", "long_name": "tensor-parallel degree"})
    out["dtype"] = ("chip", np.array(dts, dtype=object), {"long_name": "number format"})
    installed = inv.sel(chip=out["chip"].values).values
    best = out["throughput"].max("batch").values
    out["installed_chips"] = ("chip", installed, {"units": "1", "long_name": "chips installed"})
    out["site_throughput_total"] = ("chip", np.floor(installed / out["tp"].values) * best,
                                    {"units": "token/s", "long_name": "output throughput of all installed chips"})
    out.attrs.update({"model": model, "isl": isl, "osl": osl, "scenario": scenario.name})
    return out


def _group_latency_inputs(scenario):
    dev = scenario["device"]
    access = dev["access_tech"].values.astype(str)
    unknown = sorted(set(access) - set(_lat.ACCESS_DELAY_MS))
    if unknown:
        raise EdgeError(f"device.access_tech {unknown} has no access delay; known: {sorted(_lat.ACCESS_DELAY_MS)}")
    fixed = np.array([_lat.ACCESS_DELAY_MS[a] for a in access], float)
    return dev["lon"].values, dev["lat"].values, fixed


def routing_problem(scenario, request_class: str = "chat", *, model=None, dtype=None, rate_per_endpoint=None,
                    k_max: int = 64, serving_params=None, latency_reserve: float = DEFAULT_LATENCY_RESERVE,
                    max_utilisation: float = DEFAULT_MAX_UTILISATION, layer: str = "ip",
                    path_model: str = "graph") -> SimpleNamespace:
    """The routing problem of a scenario, before any objective: pools, demand, candidate pairs, link usage.

    Shared by :func:`routing_analysis` (one snapshot) and the ``dispatch`` analysis (many), so both see
    the same pools, candidates and link rows. Parameters as :func:`routing_analysis`.
    """
    _paths._check_path_model(path_model)
    rc = _cat.request_class(request_class)
    pools = pool_table(scenario, request_class, model, dtype, serving_params=serving_params,
                       latency_reserve=latency_reserve, max_utilisation=max_utilisation)
    s_of_pool = np.array(json.loads(pools.attrs["site_index_json"]), np.int64)
    site = scenario["site"]
    dev = scenario["device"]
    n_dev, n_site, n_pool = dev.sizes["device"], site.sizes["site"], pools.sizes["pool"]
    if n_dev == 0:
        raise EdgeError(f"scenario {scenario.name!r} has no device groups: no demand to route")
    rate = float(rc["rate_per_endpoint"] if rate_per_endpoint is None else rate_per_endpoint)
    per_endpoint = np.where(dev["demand"].values > 0, dev["demand"].values, rate)
    demand = dev["endpoints"].values * per_endpoint
    if "edge_request_class" in dev:                      # only the groups of this class generate its demand
        cls = dev["edge_request_class"].values.astype(str)
        cls = np.where(cls == "", DEFAULT_REQUEST_CLASS, cls)   # the core leaves absent text attributes ""
        demand = np.where(cls == request_class, demand, 0.0)
    glon, glat, gfixed = _group_latency_inputs(scenario)
    slo_ms = min(_slo_s(rc, "ttft_slo"), _slo_s(rc, "e2e_slo")) * 1e3
    feasible = pools["pool_feasible"].values.copy()
    if "edge_serving" in site:                           # sites switched off for inference serve nothing
        feasible &= site["edge_serving"].values.astype(bool)[s_of_pool]
    if not feasible.any():
        raise EdgeError(f"no pool of scenario {scenario.name!r} can serve request class {request_class!r} "
                        f"(model {pools.attrs['model']}); see pool_table() for each chip")
    proc_ms = pools["process"].values * 1e3
    min_proc = np.nanmin(np.where(feasible, proc_ms, np.nan))
    budget = np.full(n_dev, (slo_ms - min_proc) / 2.0)
    # only sites with a feasible pool are candidates (k_max counts serving sites, not PoPs)
    serving_site = np.zeros(n_site, bool)
    serving_site[s_of_pool[feasible]] = True
    if path_model == "graph":
        net = _paths.Network.from_scenario(scenario, layer)
        gpop, km = _paths.access_of_points(scenario, glon, glat, np.arange(n_dev))
        first = gfixed + km * float(scenario.parameters["metro_route_factor"]) * _lat.FIBRE_DELAY_MS_PER_KM \
            + _paths.METRO_EQUIPMENT_MS
        sfixed = np.where(serving_site, np.nan_to_num(site["hop_delay"].values.astype(float)), np.inf)
        g, s, one_way = _routing.graph_candidate_pairs(first, gpop, sfixed, budget, net, k_max=k_max)
    else:
        rf = float(scenario.parameters.get("route_factor", _lat.DEFAULT_ROUTE_FACTOR))
        sub = np.flatnonzero(serving_site)
        sfixed = PATH_EQUIPMENT_MS + np.nan_to_num(site["hop_delay"].values[sub])
        g, s, one_way = _routing.candidate_pairs(glon, glat, site["lon"].values[sub], site["lat"].values[sub], gfixed,
                                                 sfixed, budget, rf, k_max=k_max)
        s = sub[s]
    # expand site candidates to the site's pools, keeping pairs that meet the SLO with that pool
    fp = np.flatnonzero(feasible)
    fp = fp[np.argsort(s_of_pool[fp], kind="stable")]                # feasible pools grouped by site
    first_pool = np.searchsorted(s_of_pool[fp], np.arange(n_site), side="left")
    n_pools_site = np.bincount(s_of_pool[fp], minlength=n_site)
    counts = n_pools_site[s]
    rep = np.repeat(np.arange(g.size), counts)
    pair_pool = fp[np.repeat(first_pool[s] - (np.cumsum(counts) - counts), counts) + np.arange(int(counts.sum()))]
    pair_group, pair_site, pair_one_way = g[rep], s[rep], one_way[rep]
    ok = 2.0 * pair_one_way + proc_ms[pair_pool] <= slo_ms
    pair_group, pair_site, pair_pool, pair_one_way = pair_group[ok], pair_site[ok], pair_pool[ok], pair_one_way[ok]
    capacity = pools["capacity"].values
    links = {}
    if path_model == "graph":
        up_bits, down_bits = 8.0 * float(rc["request_bytes"]), 8.0 * float(rc["response_bytes"])
        if not (np.isfinite(up_bits) and np.isfinite(down_bits)):
            raise EdgeError(f"request class {request_class!r} has no request_bytes/response_bytes: the link loads "
                            "cannot be computed (datasets/models/request_classes.csv)")
        lcap = scenario["link"]["capacity"].values.astype(float) if scenario["link"].sizes.get("link", 0) \
            else np.zeros(0)
        # every link direction a candidate path uses (for the loads), then those with a capacity (constraints)
        matrix, row_link, row_fwd, _ = _routing.link_usage(net, gpop[pair_group], pair_site, up_bits, down_bits,
                                                           np.ones(lcap.size))
        row_cap = lcap[row_link]
        constrained = np.isfinite(row_cap)
        links = {"link_matrix": matrix[np.flatnonzero(constrained)], "link_capacity": row_cap[constrained]}
    if path_model != "graph":
        net = gpop = matrix = row_link = row_fwd = constrained = lcap = None
    return SimpleNamespace(rc=rc, pools=pools, s_of_pool=s_of_pool, site=site, dev=dev, n_dev=n_dev, n_site=n_site,
                           n_pool=n_pool, demand=demand, slo_ms=slo_ms, proc_ms=proc_ms, feasible=feasible,
                           pair_group=pair_group, pair_site=pair_site, pair_pool=pair_pool,
                           pair_one_way=pair_one_way, capacity=capacity, links=links, net=net, gpop=gpop,
                           matrix=matrix, row_link=row_link, row_fwd=row_fwd, constrained=constrained, lcap=lcap,
                           layer=layer, path_model=path_model)


def routing_analysis(scenario, request_class: str = "chat", objective: str = "cost", method: str = "lp",
                     model: str | None = None, dtype: str | None = None, rate_per_endpoint: float | None = None,
                     k_max: int = 64, cs2: float = 1.0, serving_params=None,
                     latency_reserve: float = DEFAULT_LATENCY_RESERVE,
                     max_utilisation: float = DEFAULT_MAX_UTILISATION, layer: str = "ip",
                     path_model: str = "graph") -> xr.Dataset:
    """Assign every device group's requests to pools under the latency SLO and capacities.

    Parameters
    ----------
    scenario : Scenario
    request_class : str
        Row of ``datasets/models/request_classes.csv`` (model, token lengths, SLOs, default rate).
    objective : {"cost", "energy", "carbon"}
        Minimise electricity cost [CNY], facility energy [J] or CO2 [kg].
    method : {"lp", "greedy", "both"}
        ``both`` solves the LP and reports the greedy cost gap.
    model, dtype : str, optional
        Override the class's model / the per-chip number format.
    rate_per_endpoint : float, optional
        Requests per endpoint [request/s] where ``device.demand`` is 0 (default: the class's rate).
    k_max : int
        Lowest-latency sites examined per access PoP (graph) or nearest per group (direct) [1]
        (see :mod:`workbench_edge.routing`).
    cs2 : float
        Squared coefficient of variation of request service times [1] for the M/G/c queueing
        (assumed 1: output lengths about exponential).
    serving_params : ServingParams or dict, optional
    latency_reserve, max_utilisation : float
        See module docstring.
    layer : {"ip", "optical", "internet"}
        Network layer of the request paths (:data:`workbench.paths.LAYERS`).
    path_model : {"graph", "direct"}
        Over the link graph with link capacities (default) or the named great-circle approximation.

    Returns
    -------
    xr.Dataset
        ``assignment`` (device x site) [1] share of each group's demand, ``demand``/``served``/
        ``unserved`` (device) [request/s], ``rtt`` (device) [ms] demand-weighted network round trip,
        ``slo_attainment`` (device) [1], ``site_load``/``site_capacity`` (site) [request/s],
        ``site_wait_p50``/``site_wait_p99`` (site) [s], ``west`` (site), pool table variables (``pool``),
        totals ``cost_rate`` [CNY/h], ``facility_power`` [W], ``carbon_rate`` [kg/h],
        ``served_west_share``, ``east_to_west_share`` [1]; over the graph ``link_load`` (link x
        direction) [bit/s], ``link_utilisation`` [1], ``link_binding`` (bool), ``link_price``
        [cost unit per bit/s]; ``attrs["summary_json"]``/``summary_text``.
    """
    _paths._check_path_model(path_model)
    if objective not in ("cost", "energy", "carbon"):
        raise EdgeError(f"objective must be cost, energy or carbon, got {objective!r}")
    if method not in ("lp", "greedy", "both"):
        raise EdgeError(f"method must be lp, greedy or both, got {method!r}")
    pb = routing_problem(scenario, request_class, model=model, dtype=dtype, rate_per_endpoint=rate_per_endpoint,
                         k_max=k_max, serving_params=serving_params, latency_reserve=latency_reserve,
                         max_utilisation=max_utilisation, layer=layer, path_model=path_model)
    pools, s_of_pool, site, dev = pb.pools, pb.s_of_pool, pb.site, pb.dev
    n_dev, n_site, n_pool, demand, slo_ms, proc_ms = pb.n_dev, pb.n_site, pb.n_pool, pb.demand, pb.slo_ms, pb.proc_ms
    pair_group, pair_site, pair_pool, pair_one_way = pb.pair_group, pb.pair_site, pb.pair_pool, pb.pair_one_way
    gpop, links, capacity = pb.gpop, pb.links, pb.capacity
    matrix, row_link, row_fwd, constrained, lcap = pb.matrix, pb.row_link, pb.row_fwd, pb.constrained, pb.lcap
    unit_cost = {"cost": pools["cost_per_request"].values, "energy": pools["facility_energy"].values,
                 "carbon": pools["carbon_per_request"].values}[objective]
    pair_cost = unit_cost[pair_pool]
    solved = {}
    if method in ("lp", "both"):
        solved["lp"] = _routing.solve_lp(n_dev, n_pool, pair_group, pair_pool, pair_cost, demand, capacity,
                                         group_key=gpop if links else None, **links)
    if method in ("greedy", "both"):
        solved["greedy"] = _routing.solve_greedy(n_dev, n_pool, pair_group, pair_pool, pair_cost, demand, capacity,
                                                 **links)
    main = solved["lp" if "lp" in solved else "greedy"]
    x = main["x"]
    # --- results on the device x site grid (small scenarios: dense is fine here)
    served = np.bincount(pair_group, weights=x, minlength=n_dev)
    assign = np.zeros((n_dev, n_site))
    np.add.at(assign, (pair_group, pair_site), x)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(demand[:, None] > 0, assign / demand[:, None], 0.0)
        rtt = np.bincount(pair_group, weights=x * 2.0 * pair_one_way, minlength=n_dev) / served
    pool_load = np.bincount(pair_pool, weights=x, minlength=n_pool)
    servers = pools["servers"].values
    cycle = pools["cycle"].values
    slack = (slo_ms - 2.0 * pair_one_way - proc_ms[pair_pool]) / 1e3
    att_pair = _q.slo_attainment(slack, servers[pair_pool], pool_load[pair_pool], cycle[pair_pool], cs2)
    with np.errstate(invalid="ignore", divide="ignore"):
        attainment = np.bincount(pair_group, weights=x * att_pair, minlength=n_dev) / demand
    w50 = np.where(pool_load > 0, _q.mgc_wait_quantile(0.5, servers, pool_load, cycle, cs2), 0.0)
    w99 = np.where(pool_load > 0, _q.mgc_wait_quantile(0.99, servers, pool_load, cycle, cs2), 0.0)
    site_load = np.bincount(s_of_pool, weights=pool_load, minlength=n_site)
    site_cap = np.bincount(s_of_pool, weights=capacity, minlength=n_site)
    site_w50 = np.zeros(n_site)
    site_w99 = np.zeros(n_site)
    np.maximum.at(site_w50, s_of_pool, np.nan_to_num(w50, posinf=np.inf))
    np.maximum.at(site_w99, s_of_pool, np.nan_to_num(w99, posinf=np.inf))
    province = site["province"].values.astype(str)
    west = np.isin(province, WESTERN_PROVINCES)
    dev_west = np.isin(dev["province"].values.astype(str), WESTERN_PROVINCES)
    served_west = float(np.sum(assign[:, west]))
    east_to_west = float(np.sum(assign[~dev_west][:, west]))
    total_served = float(served.sum())
    cost_rate = float(np.dot(np.nan_to_num(pools["cost_per_request"].values), pool_load)) * 3600.0
    power = float(np.dot(np.nan_to_num(pools["facility_energy"].values), pool_load))
    carbon_rate = float(np.dot(np.nan_to_num(pools["carbon_per_request"].values), pool_load)) * 3600.0
    d, st = ("device",), ("site",)
    out = xr.Dataset(
        {
            "assignment": (("device", "site"), share, {"units": "1", "long_name": "share of group demand served at site"}),
            "demand": (d, demand, {"units": "request/s", "long_name": "request demand"}),
            "served": (d, served, {"units": "request/s", "long_name": "requests served"}),
            "unserved": (d, main["unserved"], {"units": "request/s", "long_name": "requests not served"}),
            "rtt": (d, rtt, {"units": "ms", "long_name": "network round trip (demand-weighted)"}),
            "slo_attainment": (d, attainment, {"units": "1", "long_name": "share of requests within the SLO"}),
            "site_load": (st, site_load, {"units": "request/s", "long_name": "requests served at site"}),
            "site_capacity": (st, site_cap, {"units": "request/s", "long_name": "planned capacity of site"}),
            "site_wait_p50": (st, site_w50, {"units": "s", "long_name": "median queueing wait (worst pool)"}),
            "site_wait_p99": (st, site_w99, {"units": "s", "long_name": "p99 queueing wait (worst pool)"}),
            "west": (st, west, {"units": "1", "long_name": "site in a western province"}),
            "pool_load": (("pool",), pool_load, {"units": "request/s", "long_name": "requests served by pool"}),
            "cost_rate": ((), cost_rate, {"units": "CNY/h", "long_name": "electricity cost rate"}),
            "facility_power": ((), power, {"units": "W", "long_name": "facility power for the served demand"}),
            "carbon_rate": ((), carbon_rate, {"units": "kg/h", "long_name": "CO2 rate"}),
            "served_west_share": ((), min(1.0, served_west / total_served) if total_served else 0.0,
                                  {"units": "1", "long_name": "share of served requests served in the west"}),
            "east_to_west_share": ((), min(1.0, east_to_west / total_served) if total_served else 0.0,
                                   {"units": "1", "long_name": "share of served requests sent from east to west"}),
        },
        coords={"device": dev["device"].values, "site": site["site"].values},
    )
    if path_model == "graph":
        _link_results(out, scenario, main, matrix, row_link, row_fwd, constrained, lcap,
                      {"cost": "CNY/bit", "energy": "J/bit", "carbon": "kg/bit"}[objective])
    for name in ("capacity", "process", "cost_per_request", "facility_energy", "pool_feasible", "chip"):
        out[name] = pools[name]
    out["pool_site"] = pools["site"]
    summ = {"request_class": request_class, "model": pools.attrs["model"], "objective": objective, "method": method,
            "demand_request_per_s": float(demand.sum()), "served_request_per_s": total_served,
            "unserved_request_per_s": float(main["unserved"].sum()), "candidate_pairs": int(pair_group.size),
            "cost_CNY_per_h": cost_rate, "facility_power_W": power, "carbon_kg_per_h": carbon_rate,
            "served_west_share": float(out["served_west_share"]), "east_to_west_share": float(out["east_to_west_share"]),
            "mean_rtt_ms": float(np.nansum(rtt * served) / total_served) if total_served else math.nan,
            "slo_attainment": min(1.0, float(np.nansum(attainment * demand) / demand.sum())) if demand.sum() else math.nan,
            "solver_seconds": main["seconds"], "path_model": path_model,
            "layer": _paths.get_layer(layer).name if path_model == "graph" else ""}
    if path_model == "graph":
        summ.update(json.loads(out.attrs.pop("links_json")))
    if "lp" in solved and "greedy" in solved:
        lp_obj, gr_obj = solved["lp"]["objective"], solved["greedy"]["objective"]
        summ.update({"greedy_objective": gr_obj, "lp_objective": lp_obj,
                     "greedy_gap": (gr_obj - lp_obj) / lp_obj if lp_obj else 0.0,
                     "greedy_seconds": solved["greedy"]["seconds"]})
    out.attrs.update({"summary_json": json.dumps(summ), "request_class": request_class, "objective": objective,
                      "method": method, "slo_ms": slo_ms, "scenario": scenario.name,
                      "summary_text": "\n".join(f"{k}: {v:.6g}" if isinstance(v, float) else f"{k}: {v}"
                                                for k, v in summ.items())})
    return out


def _link_results(out, scenario, main, matrix, row_link, row_fwd, constrained, lcap, price_unit):
    """Link loads, utilisation, binding flags and prices on ``link x direction`` (adds to ``out``)."""
    link = scenario["link"]
    n_links = link.sizes.get("link", 0)
    load = np.zeros((n_links, 2))
    load[row_link, np.where(row_fwd, 0, 1)] = matrix @ main["x"]
    cap = np.repeat(lcap[:, None], 2, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        util = np.where(cap > 0, load / cap, np.where(load > 0, np.inf, 0.0))
    price = np.zeros((n_links, 2))
    binding = np.zeros((n_links, 2), bool)
    rows = np.flatnonzero(constrained)
    if "link_dual" in main:
        dual = -np.asarray(main["link_dual"], float)
        price[row_link[rows], np.where(row_fwd[rows], 0, 1)] = np.maximum(dual, 0.0)
        binding = price > 1e-9 * max(float(price.max(initial=0.0)), 1e-300)
        binding &= util >= 0.999
    else:                                                # greedy: a link direction at capacity binds
        binding = np.isfinite(cap) & (util >= 1 - 1e-9) & (load > 0)
    dims = ("link", "direction")
    out["link_load"] = (dims, load, {"units": "bit/s", "long_name": "inference traffic on the link"})
    out["link_utilisation"] = (dims, np.where(np.isfinite(cap), util, np.nan),
                               {"units": "1", "long_name": "inference traffic / link capacity"})
    out["link_binding"] = (dims, binding, {"units": "1", "long_name": "the link capacity limits the routing"})
    penalty = bool(np.sum(main["unserved"]) > 1e-9)
    out["link_price"] = (dims, price, {
        "units": price_unit, "long_name": "shadow price of link capacity"
        + (" (demand is unserved: the price is set by the unserved penalty, not by a cost)" if penalty else "")})
    out.coords["link"] = ("link", link["link"].values)
    out.coords["direction"] = ("direction", ["forward", "reverse"],
                               {"long_name": "forward: from the link's src to its dst"})
    fin = np.where(np.isfinite(util), util, -1.0)
    i, j = np.unravel_index(np.argmax(fin), fin.shape) if fin.size else (0, 0)
    names = link["link"].values.astype(str)
    bind = [f"{names[a]} ({'forward' if b == 0 else 'reverse'})" for a, b in zip(*np.nonzero(binding))]
    out.attrs["links_json"] = json.dumps({
        "links_loaded": int((load.sum(1) > 0).sum()),
        "max_link_utilisation": float(fin.max()) if fin.size and fin.max() >= 0 else math.nan,
        "max_link": f"{names[i]} ({'forward' if j == 0 else 'reverse'})" if fin.size and fin.max() >= 0 else "",
        "binding_links": bind, "total_link_traffic_bps": float(load.sum()),
        "link_price_from_unserved_penalty": penalty})


def _nearest_rtt_ms(scenario, site_mask, layer: str = "ip") -> float:
    """Population-weighted median round trip from device groups to their nearest site in the mask [ms],
    over the link graph (core path model, radio access included; one multi-source Dijkstra run)."""
    idx = np.flatnonzero(site_mask)
    if idx.size == 0:
        raise EdgeError("no site matches (e.g. no metro edge or no hub/cluster site in the scenario)")
    dev = scenario["device"]
    n = dev.sizes["device"]
    res = _paths.point_latency(scenario, dev["lon"].values, dev["lat"].values, np.arange(n), dev["endpoints"].values,
                               idx, layer=layer, include_access=True, warn=False)
    lat = res["latency_ms"]
    if not np.isfinite(lat).any():
        raise EdgeError("no device group reaches any of these sites over the link graph")
    w = np.where(np.isfinite(lat), dev["endpoints"].values, 0.0)
    order = np.argsort(lat)
    cum = np.cumsum(w[order]) / w.sum()
    return float(2.0 * lat[order][np.searchsorted(cum, 0.5)])


def _tier_figures(model, chip, count, dtype, isl, osl, params, chips, rtt_ms, price, pue):
    ds = serving(model, chip, count, dtype, isl, osl, tp=count, params=params, chips=chips)
    if int(ds["max_batch"]) < 1:
        raise EdgeError(f"{model} in {dtype} does not fit {count} x {chip}")
    b = min(int(ds["max_batch"]), 32)
    ds = serving(model, chip, count, dtype, isl, osl, tp=count, batch=[b], params=params, chips=chips)
    s = summary(ds, b)
    latency_ms = rtt_ms + 1e3 * (s["ttft"] + (osl - 1) * s["tpot"])
    energy = float(ds["energy_per_request"].sel(batch=b)) * pue
    prefill_energy = float(ds["power"]) * float(ds["prefill_time"]) / b * pue
    return ({"latency": latency_ms, "energy": energy, "cost": energy / 3.6e6 * price},
            {"latency": rtt_ms + 1e3 * s["ttft"], "energy": prefill_energy, "cost": prefill_energy / 3.6e6 * price},
            s)


def cascade_analysis(scenario, small_model: str = "llama-3.1-8b", large_model: str = "llama-3.1-70b",
                     small_chip: str = "h100-sxm", large_chip: str = "h100-sxm", small_count: int = 1,
                     large_count: int = 2, dtype: str = "fp8", isl: int = 500, osl: int = 250,
                     share=None, probe: str = "full", ranking: float = 0.7, serving_params=None,
                     layer: str = "ip") -> xr.Dataset:
    """Large-small collaboration curves for the scenario: small model at metro edge sites, large at hubs.

    Network round trips are the population-median RTT over the link graph (``layer``, default ``ip``;
    radio access included) to the nearest ``metro_edge`` site (small tier) and to the nearest ``hub``/``cluster`` site
    (large tier); energy includes each tier's median PUE
    and cost its median power price. Both tiers run at batch min(32, max batch).

    Returns
    -------
    xr.Dataset
        :func:`workbench_edge.cascade.cascade_curves` over ``share`` plus the pure-tier figures in attrs.
    """
    params = _params(serving_params)
    site = scenario["site"]
    tier = site["tier"].values.astype(str)
    edge_mask = tier == "metro_edge"
    hub_mask = np.isin(tier, ("hub", "cluster"))
    rtt_edge = _nearest_rtt_ms(scenario, edge_mask, layer)
    rtt_hub = _nearest_rtt_ms(scenario, hub_mask, layer)
    chips = scenario["chip"]
    small, small_probe, s_sum = _tier_figures(small_model, small_chip, small_count, dtype, isl, osl, params, chips,
                                              rtt_edge, float(np.median(site["power_price"].values[edge_mask])),
                                              float(np.median(site["pue"].values[edge_mask])))
    large, _, l_sum = _tier_figures(large_model, large_chip, large_count, dtype, isl, osl, params, chips, rtt_hub,
                                    float(np.median(site["power_price"].values[hub_mask])),
                                    float(np.median(site["pue"].values[hub_mask])))
    qs, ql = model_spec(small_model).quality, model_spec(large_model).quality
    if not (np.isfinite(qs) and np.isfinite(ql)):
        raise EdgeError(f"quality proxy needs quality_mmlu_cot for both {small_model} and {large_model} "
                        "in datasets/models/models.csv")
    share = np.linspace(0.0, 1.0, 21) if share is None else share
    ds = _cascade.cascade_curves(share, small, large, qs, ql, probe=probe, ranking=ranking, small_probe=small_probe)
    ds.attrs.update({"small_model": small_model, "large_model": large_model, "rtt_edge_ms": rtt_edge,
                     "rtt_hub_ms": rtt_hub, "small_json": json.dumps(small), "large_json": json.dumps(large),
                     "small_serving_json": json.dumps(s_sum), "large_serving_json": json.dumps(l_sum)})
    return ds


def disaggregation_analysis(scenario, model: str = "llama-3.1-70b", prefill_chip: str = "ascend-910c",
                            decode_chip: str = "h100-sxm", prefill_site: str | None = None,
                            decode_site: str | None = None, layer: str = "optical", *, prefill_count: int = 8,
                            decode_count: int = 8, dtype: str = "bf16", isl: int = 8000, osl: int = 500,
                            tp: int | None = None, distance_km=None, bandwidth_bps=(400e9, 1.6e12),
                            ttft_slo_s: float = 2.0, tpot_slo_s: float = 0.2, serving_params=None) -> xr.Dataset:
    """Prefill/decode disaggregation between two sites of the scenario, the KV cache over their real path.

    The prefill site P defaults to the site with the most ``prefill_chip`` chips, the decode site D to the
    ``metro_edge`` site (else any site) with the most ``decode_chip`` chips. The KV cache travels the
    shortest path P -> D over the link graph on ``layer``: its one-way latency and fibre length come from
    the core path engine and the bandwidth offered to the transfer is capped by the path's narrowest
    link (``bandwidth_bps``, default 400 Gbit/s and 1.6 Tbit/s, each capped). Passing ``distance_km``
    instead runs the parametric sweep of :func:`workbench_edge.disagg.disaggregation` (route lengths, no
    path) - a named approximation. The other parameters are those of
    :func:`workbench_edge.disagg.disaggregation` (chips per pool, number format, prompt and output tokens,
    tensor parallelism, SLOs [s]; ``serving_params`` a ServingParams or a dict).

    Returns
    -------
    xr.Dataset
        :func:`workbench_edge.disagg.disaggregation` over one ``distance`` (the path) x ``bandwidth``,
        plus ``path_latency`` [ms], ``path_length`` [km], ``path_capacity`` [bit/s] and attrs naming the
        sites and the links of the path.
    """
    kwargs = {"prefill_count": prefill_count, "decode_count": decode_count, "dtype": dtype, "isl": isl, "osl": osl,
              "tp": tp, "ttft_slo_s": ttft_slo_s, "tpot_slo_s": tpot_slo_s, "params": _params(serving_params)}
    if distance_km is not None:
        return _disaggregation(model, prefill_chip, decode_chip, chips=scenario["chip"], distance_km=distance_km,
                               bandwidth_bps=bandwidth_bps, **kwargs)
    site = scenario["site"]
    ids = site["site"].values.astype(str)
    inv = scenario.inventory
    chip_ids = inv["chip"].values.astype(str).tolist()

    def _pick(chip, given, prefer_tier=None):
        if given is not None:
            if given not in ids.tolist():
                raise EdgeError(f"unknown site {given!r} in scenario {scenario.name!r}")
            return given
        if chip not in chip_ids:
            raise EdgeError(f"chip {chip!r} is in no site's inventory of scenario {scenario.name!r}; pass the site")
        count = inv.sel(chip=chip).values.astype(float)
        if prefer_tier is not None:
            tier_ok = site["tier"].values.astype(str) == prefer_tier
            if (count * tier_ok).max() > 0:
                count = count * tier_ok
        if count.max() <= 0:
            raise EdgeError(f"no site of scenario {scenario.name!r} has {chip!r} chips; pass the site")
        return str(ids[int(np.argmax(count))])

    p_site = _pick(prefill_chip, prefill_site)
    d_site = _pick(decode_chip, decode_site, "metro_edge")
    pi, di = int(np.flatnonzero(ids == p_site)[0]), int(np.flatnonzero(ids == d_site)[0])
    net = _paths.Network.from_scenario(scenario, layer)
    route = net.route([pi], [di])
    one_way_ms = float(route["latency"][0, 0])
    if not np.isfinite(one_way_ms):
        raise EdgeError(f"no path between {p_site} and {d_site} over the link graph of {scenario.name!r}")
    _, links, _ = net.path_links([pi], [di])
    lcap = scenario["link"]["capacity"].values.astype(float)[links] if links.size else np.zeros(0)
    path_cap = float(np.nanmin(lcap)) if np.isfinite(lcap).any() else math.inf
    bw = np.atleast_1d(np.asarray(bandwidth_bps, float))
    bw = np.minimum(bw, path_cap)
    ds = _disaggregation(model, prefill_chip, decode_chip, chips=scenario["chip"],
                         distance_km=[float(route["length_km"][0, 0])], bandwidth_bps=np.unique(bw),
                         one_way_s=[one_way_ms / 1e3], **kwargs)
    ds["path_latency"] = ((), one_way_ms, {"units": "ms", "long_name": f"one-way latency {p_site} -> {d_site}"})
    ds["path_length"] = ((), float(route["length_km"][0, 0]), {"units": "km", "long_name": "fibre length of the path"})
    ds["path_capacity"] = ((), path_cap, {"units": "bit/s", "long_name": "capacity of the narrowest link on the path"})
    ds.attrs.update({"prefill_site": p_site, "decode_site": d_site, "layer": net.layer.name,
                     "path_links": ",".join(net.link_ids[links].astype(str).tolist()), "scenario": scenario.name})
    return ds
