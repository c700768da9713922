"""Write ``datasets/catalogues/chips.csv``: the accelerator catalogue.

Run from the repository root::

    python datasets/build/build_chips.py

Every value comes from the sources in ``datasets/SOURCES.yaml`` (keys in the ``source`` column);
values FIGURES.md marks UNCONFIRMED are filled only where a row's notes say ``assumed`` and why.
Units are canonical: FLOP/s, OP/s, B, B/s, W, USD. Vendors' GB and TB/s are decimal (1e9, 1e12).
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "catalogues" / "chips.csv"

T = 1e12  # tera
G = 1e9  # giga
NAN = math.nan

COLUMNS = [
    "id", "name", "vendor", "bf16_flops [FLOP/s]", "fp8_flops [FLOP/s]", "fp4_flops [FLOP/s]", "int8_ops [OP/s]",
    "hbm [B]", "hbm_bw [B/s]", "tdp [W]", "scale_up_bw [B/s]", "scale_up_links", "price [USD]", "release_year",
    "source", "notes",
]

# Common note fragments
_DENSE = "All FLOP/s figures dense (no structured sparsity)."
_YEAR = "release_year: approximate year of first availability (assumed, from public launch news; not in FIGURES.md)."
_PRICE = "price: no sourced price (NaN)."

CHIPS: list[dict] = [
    dict(
        id="h100-sxm", name="NVIDIA H100 SXM5 80GB", vendor="NVIDIA",
        bf16=989.4 * T, fp8=1978.9 * T, fp4=NAN, int8=1978.9 * T,
        hbm=80 * G, hbm_bw=3.35 * T, tdp=700, su_bw=900 * G, su_links=18, price=NAN, year=2022,
        source="glennklockwood_h100;codesota_h100;nvidia_nvlink",
        notes=f"{_DENSE} FP8 and INT8 dense 1978.9 T = 2x BF16 (glennklockwood H100 table; sparse 3957.8). "
              "No FP4 on Hopper. scale_up_bw = NVLink 4 900 GB/s per GPU, bidirectional aggregate over 18 links "
              f"(18 x 50 GB/s). {_PRICE} {_YEAR}",
    ),
    dict(
        id="h200-sxm", name="NVIDIA H200 SXM 141GB", vendor="NVIDIA",
        bf16=989.4 * T, fp8=1978.9 * T, fp4=NAN, int8=1978.9 * T,
        hbm=141 * G, hbm_bw=4.8 * T, tdp=700, su_bw=900 * G, su_links=18, price=NAN, year=2024,
        source="saulelectric_h200;glennklockwood_h100;nvidia_nvlink",
        notes=f"{_DENSE} Same compute die as H100 (glennklockwood), so BF16/FP8/INT8 as H100; saulelectric's "
              "'1.97 PF dense' is the sparse BF16 figure. scale_up_bw = NVLink 4 900 GB/s bidirectional aggregate "
              f"over 18 links. {_PRICE} {_YEAR}",
    ),
    dict(
        id="b200", name="NVIDIA B200 (HGX, 1000 W)", vendor="NVIDIA",
        bf16=2250 * T, fp8=4500 * T, fp4=9000 * T, int8=4500 * T,
        hbm=180 * G, hbm_bw=7.7 * T, tdp=1000, su_bw=1800 * G, su_links=18, price=NAN, year=2025,
        source="glennklockwood_b200;verda_gb300;nvidia_nvlink",
        notes=f"{_DENSE} HGX B200 at 1000 W: BF16 2250 T, FP8 4500 T, FP4 9000 T, INT8 4500 T dense (glennklockwood "
              "B200 table, 'Matrix' column). HBM 180 GB at 7.7 TB/s is the HGX/DGX B200 figure; 192 GB and 8 TB/s are "
              "quoted elsewhere (FIGURES 3.3). scale_up_bw = NVLink 5 1.8 TB/s bidirectional aggregate over 18 links "
              f"(18 x 100 GB/s). {_PRICE} {_YEAR}",
    ),
    dict(
        id="gb200", name="NVIDIA GB200 (per Blackwell GPU, 1200 W)", vendor="NVIDIA",
        bf16=2500 * T, fp8=5000 * T, fp4=10000 * T, int8=5000 * T,
        hbm=186 * G, hbm_bw=8.0 * T, tdp=1200, su_bw=1800 * G, su_links=18, price=NAN, year=2025,
        source="glennklockwood_b200;verda_gb300;nvidia_nvlink",
        notes=f"{_DENSE} Per Blackwell GPU of a GB200 superchip at 1200 W (glennklockwood B200 page, GB200 variant): "
              "BF16 2500 T, FP8 5000 T, FP4 10000 T, INT8 5000 T dense; 72 x 2.5 PF = 180 PF BF16 dense per NVL72 "
              "(FIGURES 3.3 [D]). HBM 186 GB (FIGURES: 186-192 GB); the Grace CPU's LPDDR is not counted. scale_up_bw = "
              f"NVLink 5 1.8 TB/s bidirectional aggregate over 18 links. {_PRICE} {_YEAR}",
    ),
    dict(
        id="mi300x", name="AMD Instinct MI300X", vendor="AMD",
        bf16=1307.4 * T, fp8=2614.9 * T, fp4=NAN, int8=2614.9 * T,
        hbm=192 * G, hbm_bw=5.3 * T, tdp=750, su_bw=896 * G, su_links=7, price=NAN, year=2023,
        source="jaredwatkins_mi300;gpublog_mi300x;amd_mi300x_datasheet",
        notes=f"{_DENSE} BF16 1307.4 T dense is AMD's datasheet value (FIGURES 3.3; ~1.3 PF in jaredwatkins). "
              "FP8 and INT8 2614.9 T dense = 2x BF16, AMD datasheet values cited by name (not retrieved by the team). "
              "No FP4 on CDNA 3. scale_up_bw = Infinity Fabric 896 GB/s = 7 links x 128 GB/s, bidirectional aggregate "
              f"(gpu.blog). {_PRICE} {_YEAR}",
    ),
    dict(
        id="tpu-v4", name="Google TPU v4", vendor="Google",
        bf16=275 * T, fp8=NAN, fp4=NAN, int8=275 * T,
        hbm=32 * 1024**3, hbm_bw=1.2 * T, tdp=192, su_bw=600 * G, su_links=6, price=NAN, year=2021,
        source="gcloud_tpu_v4;glennklockwood_tpuv4;brendanjameslynskey_ici;assumed",
        notes="Google Cloud TPU v4 doc: 275 TFLOPS peak per chip 'bf16 or int8' (TPU v4 has no sparsity); HBM2 "
              "'32 GiB, 1200 GBps' (so hbm = 32 x 2^30 B); measured max power 192 W (used as tdp). No FP8/FP4. "
              "scale_up_links = 6 ICI links (3D torus/mesh neighbours). scale_up_bw assumed: 6 links x 400 Gb/s per "
              "direction x 2 directions = 600 GB/s bidirectional aggregate, reading glennklockwood's 'ICI ... 400G "
              f"bandwidth in each direction' as per link. {_PRICE} {_YEAR}",
    ),
    dict(
        id="tpu-v5p", name="Google TPU v5p", vendor="Google",
        bf16=459 * T, fp8=NAN, fp4=NAN, int8=NAN,
        hbm=95 * G, hbm_bw=2.765 * T, tdp=320, su_bw=1200 * G, su_links=6, price=NAN, year=2023,
        source="gcloud_tpu_v5p;gcloud_tpu_v5p_zh;brendanjameslynskey_ici;assumed",
        notes="Google Cloud TPU v5p doc: 459 TFLOPS peak bf16 per chip; HBM2e 95 GB, 2765 GBps. scale_up_bw = 1200 GB/s "
              "bidirectional ICI per chip (zh-cn version of the doc; the English page gives 4800 Gbps = 600 GB/s, one "
              "direction); scale_up_links = 6 ICI ports (3D torus; brendanjameslynskey). INT8 not in the doc: NaN. "
              "tdp assumed: TDP is not published (FIGURES: UNCONFIRMED); 320 W = TPU v4's 192 W x (459/275), i.e. the "
              f"same W per BF16 FLOP/s as v4. {_PRICE} {_YEAR}",
    ),
    dict(
        id="ascend-910b", name="Huawei Ascend 910B", vendor="Huawei",
        bf16=280 * T, fp8=NAN, fp4=NAN, int8=NAN,
        hbm=64 * G, hbm_bw=1.6 * T, tdp=400, su_bw=NAN, su_links=NAN, price=NAN, year=2023,
        source="gitee_ascend;boardor_910b;assumed",
        notes="bf16 = 280 T FP16 figure from ai.gitee.com (a cloud renting the chip; [W]), assumed equal for BF16; "
              "boardor gives 320 T and SKUs differ (FIGURES 3.3: sources conflict 280-320). HBM 64 GB (gitee). "
              "hbm_bw assumed 1.6 TB/s: FIGURES marks it UNCONFIRMED (sources give 0.4/0.77/1.2/1.6 TB/s); 1.6 TB/s = half "
              "the 910C's 3.2 TB/s if the 910C is two 910B-class dies (FIGURES [D, inference only]). tdp assumed 400 W: "
              "upper end of the conflicting 310-400 W range (UNCONFIRMED), conservative for power budgets. No FP8. "
              f"HCCS scale-up bandwidth UNCONFIRMED: NaN. {_PRICE} {_YEAR}",
    ),
    dict(
        id="ascend-910c", name="Huawei Ascend 910C", vendor="Huawei",
        bf16=752 * T, fp8=NAN, fp4=NAN, int8=NAN,
        hbm=128 * G, hbm_bw=3.2 * T, tdp=800, su_bw=784 * G, su_links=NAN, price=NAN, year=2025,
        source="huawei_cm384;techpowerup_910c;besthub_ascend;assumed",
        notes="bf16 752 T dense from the Huawei CloudMatrix384 paper (arXiv 2506.12708; SemiAnalysis says ~780 T). "
              "HBM 128 GB (8 x HBM2E) at 3.2 TB/s. scale_up_bw = UB 392 GB/s unidirectional x 2 = 784 GB/s bidirectional "
              "aggregate (FIGURES 3.3 [D]); number of UB links not sourced: NaN. tdp assumed 800 W: TDP is UNCONFIRMED; "
              "two 910B-class dies at the 400 W assumed for the 910B. No FP8. INT8 not sourced: NaN. "
              f"{_PRICE} {_YEAR}",
    ),
]


def fmt(v) -> str:
    """Format one CSV cell: NaN/None -> empty, ints as ints, floats with 10 significant digits."""
    if v is None:
        return ""
    if isinstance(v, float):
        if math.isnan(v):
            return ""
        short = format(v, ".10g")
        return short if float(short) == v else repr(v)  # compact, but never lossy
    return str(v)


def rows() -> list[list[str]]:
    out = []
    for c in CHIPS:
        out.append([fmt(x) for x in (
            c["id"], c["name"], c["vendor"], c["bf16"], c["fp8"], c["fp4"], c["int8"], float(c["hbm"]),
            c["hbm_bw"], c["tdp"], c["su_bw"], c["su_links"], c["price"], c["year"], c["source"], c["notes"],
        )])
    return out


def main() -> None:
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with open(OUT, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(COLUMNS)
        w.writerows(rows())
    print(f"wrote {OUT.relative_to(ROOT.parent)} ({len(CHIPS)} chips)")


if __name__ == "__main__":
    main()
