"""Model catalogue, number formats and request classes: shapes, units, sources, errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml
from workbench_edge import catalogue as cat
from workbench_edge.serving import kv_bytes_per_token

from workbench.testing import assert_units


def test_kv_bytes_per_token_llama3_70b_bf16():
    # FIGURES 6.3: 2 (K and V) x 80 layers x 8 KV heads x 128 head_dim x 2 B = 327,680 B per token
    m = cat.model_spec("llama-3.1-70b")
    assert float(kv_bytes_per_token(m.layers, m.kv_heads, m.head_dim, cat.bytes_per_param("bf16"))) == 327_680.0


def test_kv_bytes_mla_deepseek_v3():
    # MLA caches kv_lora_rank 512 + rope 64 = 576 elements per layer: 61 x 576 x 1 B (FP8) = 35,136 B
    m = cat.model_spec("deepseek-v3")
    assert float(kv_bytes_per_token(m.layers, m.kv_heads, m.head_dim, 1.0, m.kv_latent_dim)) == 61 * 576


def test_models_table_units_and_contents():
    ds = cat.load_models()
    assert_units(ds[[v for v in ds.data_vars if ds[v].dtype != object]])
    assert {"llama-3.1-8b", "llama-3.1-70b", "llama-3.1-405b", "deepseek-v3", "deepseek-r1", "qwen2.5-0.5b",
            "openvla-7b", "mixtral-8x7b"} <= set(ds["model"].values)
    moe = ds.sel(model="deepseek-v3")
    assert float(moe["total_params"]) == 671e9 and float(moe["active_params"]) == 37e9   # DeepSeek-V3 report
    dense = ds["kind"].values == "dense"
    np.testing.assert_array_equal(ds["total_params"].values[dense], ds["active_params"].values[dense])
    # head_dim x heads = hidden for the Llama rows (config.json: head_dim = hidden / heads)
    for mid in ("llama-3.1-8b", "llama-3.1-70b", "llama-3.1-405b"):
        r = ds.sel(model=mid)
        assert float(r["head_dim"]) * float(r["heads"]) == float(r["hidden"])


def test_dtype_bytes():
    # bfloat16 2 B; OCP FP8 1 B; MXFP4 4 bits + an 8-bit scale per 32 values = 4.25 bits = 0.53125 B
    assert cat.bytes_per_param("bf16") == 2.0
    assert cat.bytes_per_param("fp8") == 1.0
    assert cat.bytes_per_param("fp4") == pytest.approx(4.25 / 8)


def test_every_source_key_is_defined_and_assumed_rows_explain():
    folder = cat.models_path()
    keys = set(yaml.safe_load((folder / "SOURCES.yaml").read_text()))
    from pathlib import Path

    val = Path(__file__).parents[1] / "data" / "edge" / "serving_validation.csv"
    for path in [folder / "models.csv", folder / "dtypes.csv", folder / "request_classes.csv", val]:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        for _, row in frame.iterrows():
            used = {k.strip() for k in row["source"].split(";") if k.strip()}
            assert used, f"{path.name}: row {row.iloc[0]} has no source"
            assert used <= keys, f"{path.name}: undefined keys {used - keys}"
            if "assumed" in used:
                assert "assumed" in row["notes"].lower(), f"{path.name}: row {row.iloc[0]} cites assumed without saying why"


def test_request_class_slos_are_mlperf_limits():
    # mlperf.conf: llama2-70b Server ttft 2000 ms, tpot 200 ms; interactive 450 / 40
    chat = cat.request_class("chat")
    assert (chat["ttft_slo"], chat["tpot_slo"]) == (2000.0, 200.0)
    inter = cat.request_class("chat-interactive")
    assert (inter["ttft_slo"], inter["tpot_slo"]) == (450.0, 40.0)
    assert cat.request_class("robot-vla")["e2e_slo"] == pytest.approx(1000 / 9, abs=0.5)   # 9 Hz (Helix S2)


@pytest.mark.parametrize("call, message", [
    (lambda: cat.model_spec("gpt-9"), "unknown model 'gpt-9'"),
    (lambda: cat.chip_spec("h900"), "unknown chip 'h900'"),
    (lambda: cat.bytes_per_param("fp3"), "unknown dtype 'fp3'"),
    (lambda: cat.request_class("nope"), "unknown request class 'nope'"),
    (lambda: cat.chip_spec("ascend-910b").flops_for("fp8"), "no fp8 throughput"),
])
def test_bad_ids_raise_clear_errors(call, message):
    with pytest.raises(cat.EdgeError, match=message):
        call()
