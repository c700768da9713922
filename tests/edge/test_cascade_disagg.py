"""Cascade limits and hand values; KV transfer and cross-site pipeline hand calculations."""

from __future__ import annotations

import pytest
from workbench_edge import cascade as cc
from workbench_edge.analyses import cascade_analysis
from workbench_edge.catalogue import EdgeError
from workbench_edge.disagg import disaggregation, kv_transfer_s, link_one_way_s, pipeline_across_sites

import workbench as wb

SMALL = {"latency": 300.0, "energy": 40.0, "cost": 1e-5}
LARGE = {"latency": 900.0, "energy": 300.0, "cost": 8e-5}


@pytest.mark.parametrize("probe", cc.PROBES)
def test_cascade_limits_equal_pure_cases(probe):
    ds = cc.cascade_curves([0.0, 1.0], SMALL, LARGE, 0.73, 0.86, probe=probe, small_probe={
        "latency": 50.0, "energy": 5.0, "cost": 1e-6})
    for key in ("latency", "energy", "cost"):
        assert float(ds[key].sel(share=0.0)) == SMALL[key]
        assert float(ds[key].sel(share=1.0)) == LARGE[key]
    assert float(ds["quality"].sel(share=0.0)) == pytest.approx(0.73)
    assert float(ds["quality"].sel(share=1.0)) == pytest.approx(0.86)


def test_cascade_intermediate_hand_values():
    # full probe, e = 0.3: latency = 300 + 0.3 x 900 = 570 ms; energy = 40 + 0.3 x 300 = 130 J
    ds = cc.cascade_curves([0.3], SMALL, LARGE, 0.73, 0.86, probe="full", ranking=1.0)
    assert float(ds["latency"][0]) == pytest.approx(570.0)
    assert float(ds["energy"][0]) == pytest.approx(130.0)
    # perfect ranking: Q = min(0.7, 0.73) + max(0, 0.86 - 0.7) = 0.86
    assert float(ds["quality"][0]) == pytest.approx(0.86)
    # random ranking: Q = 0.7 x 0.73 + 0.3 x 0.86 = 0.769
    assert float(cc.quality_proxy(0.3, 0.73, 0.86, ranking=0.0)) == pytest.approx(0.769)
    # none probe is the plain mix: 0.7 x 300 + 0.3 x 900 = 480 ms
    assert float(cc.cascade_metric(0.3, 300.0, 900.0, "none")) == pytest.approx(480.0)
    with pytest.raises(EdgeError):
        cc.quality_proxy(1.5, 0.7, 0.8)


def test_cascade_analysis_on_china():
    ds = cascade_analysis(wb.load_scenario("china-edwc"), share=[0.0, 0.5, 1.0])
    assert ds.attrs["rtt_edge_ms"] < ds.attrs["rtt_hub_ms"]          # metro edges are closer than hubs
    assert float(ds["energy"].sel(share=0.0)) < float(ds["energy"].sel(share=1.0))
    for k in ("latency", "energy", "cost", "quality"):
        assert ds[k].attrs["units"] and ds[k].attrs["long_name"]


def test_kv_transfer_hand_calculation():
    # 1,000 tokens x 327,680 B = 327.68 MB = 2.62144 Gbit over 400 Gbit/s = 6.5536 ms;
    # propagation 1,000 km x 4.9 us/km = 4.9 ms; equipment 0.1 ms -> 11.5536 ms
    assert float(kv_transfer_s(1000, 327_680, 400e9, 1000)) == pytest.approx(6.5536e-3 + 4.9e-3 + 0.1e-3)
    assert float(link_one_way_s(0)) == pytest.approx(1e-4)


def test_disaggregation_ttft_is_prefill_plus_transfer_plus_detour():
    ds = disaggregation("llama-3.1-70b", "h100-sxm", "h100-sxm", prefill_count=8, decode_count=8, dtype="fp8",
                        isl=8000, osl=500, distance_km=[0.0, 1000.0], bandwidth_bps=[400e9])
    from workbench_edge.serving import serving

    pre = float(serving("llama-3.1-70b", "h100-sxm", 8, "fp8", 8000, 500)["prefill_time"])
    kvb = float(ds["kv_bytes"])
    expect = pre + kvb * 8 / 400e9 + 2 * (1000 * 4.9e-3 + 0.1) / 1e3
    assert float(ds["ttft_disagg"].sel(distance=1000.0, bandwidth=400e9)) == pytest.approx(expect)
    assert float(ds["tpot_disagg"]) < float(ds["tpot_colocated"])     # no prefill stalls in the decode pool
    assert float(ds["link_request_limit"].sel(distance=0.0, bandwidth=400e9)) == pytest.approx(400e9 / (kvb * 8))


def test_pipeline_across_sites_link_time():
    # 405B BF16 (812 GB) does not fit 8 x H100 (640 GB) but fits 2 sites x 8; each step crosses one link:
    # 1,000 km -> 4.9 ms + 0.1 ms + 16 x 16,384 x 2 B x 8 / 400 Gbit/s
    ds = pipeline_across_sites("llama-3.1-405b", "h100-sxm", 8, 2, dtype="bf16", batch=16,
                               distance_km=[0.0, 1000.0], bandwidth_bps=400e9)
    assert not bool(ds["single_site_fits"]) and bool(ds["pipeline_fits"])
    assert float(ds["link_time"].sel(distance=1000.0)) == pytest.approx(5.0e-3 + 16 * 16384 * 2 * 8 / 400e9)
    assert bool(ds["pays_off"].sel(distance=1000.0)) == bool(ds["meets_slo"].sel(distance=1000.0))
