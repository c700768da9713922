"""Supernode counts and totals against hand calculations for small designs."""

import numpy as np
import pytest
from workbench_optical.designs import design_from_choice, torus_shape
from workbench_optical.fabric import FabricDesignError, SupernodeDesign, Tier, cable_length_m, fabric_totals

from workbench.errors import WorkbenchError

# Per-chip figures used below come from the shipped catalogues:
# h100-sxm: 18 NVLink links x 200 Gbit/s per direction, 2 x 100G lanes, 700 W, 989.4 TFLOP/s.
# tpu-v4: 6 ICI links x 400 Gbit/s, 8 x 50G lanes, 192 W.
# nvswitch-3: 64 ports, 120 W, USD 50,000; copper-dac cable USD 150; dsp-800g 16 W, USD 1,250.


def _h100_switched(medium="copper-dac"):
    return SupernodeDesign("h100-sxm", 8, "switched", (Tier("rack", medium, "nvswitch-3"),),
                           chips_per_node=8, nodes_per_rack=1, planes=18)


def test_switched_counts_power_and_cost_match_hand_calculation():
    t = fabric_totals(_h100_switched())
    # 18 planes -> 18 switches; 8 x 18 = 144 links, one copper cable each, 2 lanes x 2 directions
    assert (t["switches"], t["cables"], t["transceivers"], t["copper_pairs"]) == (18, 144, 0, 576)
    assert (t["nodes"], t["racks"]) == (1, 1)
    np.testing.assert_allclose(t["bf16_flops"], 8 * 989.4e12)
    np.testing.assert_allclose(t["scale_up_bw_per_chip"], 18 * 200e9 / 8 * 2)  # 900 GB/s
    np.testing.assert_allclose(t["bisection_bw"], 4 * 450e9 * 2)  # 4 chips each side x 450 GB/s, both ways
    np.testing.assert_allclose(t["total_power_w"], 8 * 700 + 18 * 120)
    np.testing.assert_allclose(t["fabric_cost_usd"], 18 * 50_000 + 144 * 150)
    assert np.isnan(float(t["cost_usd"]))  # no sourced chip price: the total cost is unknown, not zero
    # one switch carries one link of every chip: 8 chips lose 1/18 of their bandwidth
    assert float(t["blast_radius_chips"]) == 8 and float(t["blast_radius_bw_frac"]) == pytest.approx(1 / 18)
    for name in ("bf16_flops", "total_power_w", "bisection_bw", "w_per_pflops"):
        assert t[name].attrs["units"] and t[name].attrs["long_name"]


def test_pluggable_modules_are_counted_per_endpoint_by_lanes():
    t = fabric_totals(_h100_switched("dsp-800g"))
    # chip side: 18 links x 2 lanes x 100G = 3.6 Tbit/s -> ceil(4.5) = 5 modules per chip -> 40;
    # switch side: 8 links x 2 x 100G = 1.6 Tbit/s -> 2 modules per switch -> 36
    assert float(t["transceivers"]) == 76 and float(t["cables"]) == 40
    np.testing.assert_allclose(t["optics_power_w"], 76 * 16)
    np.testing.assert_allclose(t["fabric_power_w"], 76 * 16 + 18 * 120)


def test_clos2_leaf_and_spine_counts_match_hand_calculation():
    # 100 chips with one 800G port each on 64-port switches: 32 down/32 up per leaf
    d = SupernodeDesign("h100-sxm", 100, "clos2", (Tier("rack", "dsp-800g", "eps-51.2t"),
                                                   Tier("row", "dsp-800g", "eps-51.2t")),
                        chips_per_node=4, nodes_per_rack=16, planes=1, links_per_chip=1, link_rate=800e9,
                        lanes_per_link=8, lane_class=100e9)
    t = fabric_totals(d)
    # leaves = ceil(100/32) = 4, uplinks = 4 x 32 = 128, spines = ceil(128/64) = 2
    assert float(t["switches"]) == 6
    np.testing.assert_allclose(t["group_links"], [100, 128])
    # tier 1: 100 chip modules + 4 leaves x 25 links; tier 2: 128 + 2 x 64
    np.testing.assert_allclose(t["group_transceivers"], [200, 256])
    np.testing.assert_allclose(t["group_cables"], [100, 128])
    # 25 nodes -> 2 racks -> row cable = 2 x 1.0 m + 1 x (0.6 + 2.4) / 2 m = 3.5 m
    assert float(t["racks"]) == 2
    np.testing.assert_allclose(t["group_cable_length"], [1.5, 3.5])
    np.testing.assert_allclose(t["switch_power_w"], 6 * 913)
    assert float(t["blast_radius_chips"]) == 32  # one leaf carries 32 chips' only link


def test_clos2_beyond_two_tier_radix_is_rejected():
    d = SupernodeDesign("h100-sxm", 3000, "clos2", (Tier("rack", "dsp-800g", "eps-51.2t"),
                                                    Tier("row", "dsp-800g", "eps-51.2t")),
                        planes=1, links_per_chip=1, link_rate=800e9, lanes_per_link=8, lane_class=100e9)
    with pytest.raises(FabricDesignError, match="at most 2048 chips per plane"):
        fabric_totals(d)


def test_torus2d_link_classes_and_bisection_match_hand_calculation():
    # 4 x 4 torus of TPU v4 (6 links -> 1 link per neighbour), 4 chips per node (one row), 2 nodes per rack
    d = SupernodeDesign("tpu-v4", 16, "torus2d", (Tier("board", "board"), Tier("rack", "copper-dac"),
                                                  Tier("row", "dsp-400g")),
                        chips_per_node=4, nodes_per_rack=2, torus_dims=(4, 4))
    t = fabric_totals(d)
    # along a row (same node): 16 board links; across rows: 0-1 and 2-3 in a rack (8), 1-2 and 3-0 across (8)
    np.testing.assert_allclose(t["group_links"], [16, 8, 8])
    assert list(t["group"].values) == ["board", "rack", "row"]
    # every row link has a 400G module at each end (8 lanes x 50G = 400G): 16 modules, 8 fibres
    assert float(t["transceivers"]) == 16 and float(t["cables"]) == 16  # 8 copper + 8 fibre
    assert float(t["copper_pairs"]) == 8 * 8 * 2
    # cutting the 4-long dimension: 2 x 4 links (wrap) x 400 Gbit/s x 2 directions = 800 GB/s
    np.testing.assert_allclose(t["bisection_bw"], 2 * 4 * 400e9 / 8 * 2)
    assert float(t["diameter_hops"]) == 4 and float(t["blast_radius_link_chips"]) == 2
    np.testing.assert_allclose(t["total_power_w"], 16 * 192 + 16 * 9)


def test_torus3d_ocs_counts_match_hand_calculation():
    # 8 x 8 x 8 TPU v4 torus from 4 x 4 x 4 cubes: 8 cubes; one OCS group per (dimension, face position):
    # 3 x 16 = 48 groups of 2 x 8 = 16 ports -> 48 Palomar OCS (136 ports); face links 3 x 512/4 = 384
    d = SupernodeDesign("tpu-v4", 512, "torus3d_ocs", (Tier("board", "board"), Tier("rack", "copper-dac"),
                                                       Tier("row", "dsp-400g")),
                        chips_per_node=4, nodes_per_rack=16, torus_dims=(8, 8, 8), cube_dims=(4, 4, 4),
                        ocs="ocs-palomar")
    t = fabric_totals(d)
    assert float(t["ocs"]) == 48
    assert float(t["group_links"].sel(group="ocs")) == 384
    assert float(t["transceivers"]) == 768  # one per cube-face port
    assert float(t["blast_radius_chips"]) == 16 and float(t["blast_radius_bw_frac"]) == pytest.approx(1 / 6)
    np.testing.assert_allclose(t["ocs_power_w"], 48 * 150)


def test_copper_beyond_reach_is_rejected_naming_tier_length_and_reach():
    # 128 GB200 in two racks: the inter-rack tier needs 2 x 1.0 + 1.5 = 3.5 m; 200G copper reaches 2 m
    with pytest.raises(FabricDesignError) as err:
        fabric_totals(design_from_choice("gb200", 128, "torus3d", "copper-dac"))
    msg = str(err.value)
    assert "tier row" in msg and "3.50 m" in msg and "2.00 m" in msg and "200 Gbit/s" in msg
    assert isinstance(err.value, WorkbenchError)
    # the same design with optics is fine
    assert float(fabric_totals(design_from_choice("gb200", 128, "torus3d", "dsp-1.6t"))["chips"]) == 128


def test_linear_optics_cannot_gearbox_and_ocs_needs_optics():
    with pytest.raises(FabricDesignError, match="linear"):
        fabric_totals(SupernodeDesign("tpu-v4", 16, "torus2d", (Tier("board", "board"), Tier("rack", "lpo-400g"),
                                                                Tier("row", "lpo-400g")),
                                      chips_per_node=4, nodes_per_rack=2, torus_dims=(4, 4)))
    with pytest.raises(FabricDesignError, match="optical circuit switch need an optical medium"):
        fabric_totals(design_from_choice("gb200", 64, "torus3d_ocs", "copper-dac"))


def test_bad_inputs_give_clear_errors():
    with pytest.raises(FabricDesignError, match="unknown chip 'nope'"):
        fabric_totals(SupernodeDesign("nope", 8, "switched", (Tier("rack", "copper-dac", "nvswitch-3"),)))
    with pytest.raises(FabricDesignError, match="no scale-up"):  # Ascend 910B: HCCS bandwidth unconfirmed
        fabric_totals(SupernodeDesign("ascend-910b", 8, "switched", (Tier("board", "board", "nvswitch-3"),)))
    with pytest.raises(WorkbenchError, match="unknown medium 'fibre'"):
        fabric_totals(SupernodeDesign("h100-sxm", 8, "switched", (Tier("rack", "fibre", "nvswitch-3"),)))
    with pytest.raises(FabricDesignError, match="hold 12 chips"):
        fabric_totals(SupernodeDesign("tpu-v4", 16, "torus2d", (Tier("board", "board"),), torus_dims=(3, 4)))
    with pytest.raises(FabricDesignError, match="needs 72 ports"):
        fabric_totals(SupernodeDesign("h100-sxm", 72, "switched", (Tier("rack", "copper-dac", "nvswitch-3"),),
                                      planes=18))


def test_geometry_and_torus_shape():
    assert cable_length_m("board", 10) == 0 and cable_length_m("rack", 10) == 1.5
    # 16 racks -> 4 x 4 grid: 2 x 1.0 m + 3 x 1.5 m = 6.5 m
    assert cable_length_m("row", 16) == pytest.approx(6.5)
    assert torus_shape(1024) == (8, 8, 16) and torus_shape(64, 3, 4) == (4, 4, 4)
