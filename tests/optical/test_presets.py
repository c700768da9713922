"""The three presets (structural inputs only) against published totals.

Published figures (tolerance and reason per figure in datasets/optical/published.csv):

* GB200 NVL72: 72 GPUs (NVIDIA via DataCrunch), 18 NVLink switch chips (slicast), ~180 PFLOP/s dense
  BF16 (SemiAnalysis via TrendForce), ~13.4 TB HBM (NVIDIA via AI Wiki), 576 TB/s HBM (SemiAnalysis via
  winbuzzer), 130 TB/s NVLink (NVIDIA via DataCrunch), 5,184 NVLink cables (chips.sanjay920.com [W]),
  ~120 kW rack power ([W]; SemiAnalysis says 145 kW).
* Huawei CloudMatrix 384: 384 Ascend 910C, ~300 PFLOP/s BF16, 49.2 TB HBM, 1,229 TB/s, 559 kW
  (SemiAnalysis via winbuzzer / capacitymedia), 16 racks (capacitymedia), 14 scale-up transceivers per
  chip (SemiAnalysis), 2,688 x 400G UB links (besthub [W]), 336 L1 + 112 L2 UB switches (crc [W]).
* Google TPU v4 pod: 4,096 chips, 64 cubes, 48 OCS, 6,144 optical links, 128 TiB HBM (glennklockwood,
  after Jouppi et al., ISCA 2023, arXiv 2304.01433); > 1 EFLOP/s, 8 pods ~9 EFLOP/s (Google I/O 2022 via
  DatacenterDynamics); OCS < 3% of system power (Jouppi et al.).
"""

import numpy as np
import pytest
from workbench_optical.fabric import fabric_totals
from workbench_optical.presets import compare_published, preset, preset_names


@pytest.fixture(scope="module")
def comparison():
    return compare_published()


def test_every_published_figure_is_within_its_stated_tolerance(comparison):
    bad = comparison[~comparison["within"]]
    assert bad.empty, bad[["preset", "quantity", "computed", "published", "error", "tolerance"]].to_string()
    assert set(comparison["preset"]) == {"gb200-nvl72", "cloudmatrix-384", "tpu-v4-pod"}
    assert len(comparison) >= 20


def test_gb200_nvl72_exact_counts():
    t = fabric_totals(preset("gb200-nvl72"))
    assert (t["chips"], t["switches"], t["racks"], t["transceivers"]) == (72, 18, 1, 0)
    assert float(t["copper_pairs"]) == 5184          # 1,296 links x 2 lanes x 2 directions = 5,184 cables [W]
    np.testing.assert_allclose(t["scale_up_bw_total"], 129.6e12)   # vs 130 TB/s (NVIDIA)
    np.testing.assert_allclose(t["bf16_flops"], 180e15)            # 72 x 2.5 PF (FIGURES 3.3 [D])


def test_cloudmatrix_384_exact_counts():
    t = fabric_totals(preset("cloudmatrix-384"))
    assert float(t["switches"]) == 336 + 112       # crc [W], emergentmind [S]
    assert float(t["transceivers"]) == 14 * 384    # SemiAnalysis: 14 transceivers per chip (scale-up)
    assert float(t["cables"]) == 2688              # besthub [W]
    assert float(t["racks"]) == 16                 # 12 compute + 4 networking (capacitymedia)
    np.testing.assert_allclose(t["hbm_bytes"], 384 * 128e9)


def test_tpu_v4_pod_exact_counts():
    t = fabric_totals(preset("tpu-v4-pod"))
    assert (t["chips"], t["ocs"], t["transceivers"]) == (4096, 48, 6144)   # glennklockwood / Jouppi 2023
    np.testing.assert_allclose(t["bf16_flops"], 4096 * 275e12)
    np.testing.assert_allclose(t["hbm_bytes"], 128 * 2**40)
    assert float(t["ocs_power_w"]) / float(t["it_power_w"]) < 0.03       # paper: OCS < 3% of power


def test_all_presets_compute():
    for name in preset_names():
        t = fabric_totals(preset(name))
        assert float(t["total_power_w"]) > float(t["chip_power_w"]) > 0
