"""Property test: random mutations of a good scenario file (YAML and its CSV tables) either load or fail
with a ScenarioError whose problems are one line each; never another exception, within a time and
memory bound per load.

The mutations are what editors, spreadsheets and attackers do to files: characters inserted, deleted or
replaced, lines duplicated, dropped or swapped, YAML syntax (anchors, aliases, tags, brackets), numbers
made negative, huge, non-finite or written with separators, units changed, encodings and byte-order
marks, NUL bytes. The examples are derandomised (the same ones every run, so CI is stable) and the
search database is off (no files written); set ``WORKBENCH_FUZZ_EXAMPLES`` for a longer run and
``WORKBENCH_FUZZ_RANDOM=1`` for new random examples.
"""

from __future__ import annotations

import functools
import os
import shutil
import time
import tracemalloc
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import workbench as wb
from workbench.errors import ScenarioError

TINY = Path(__file__).resolve().parents[1] / "data" / "scenarios" / "tiny"
FILES = ("scenario.yaml", "sites.csv", "devices.csv")
EXAMPLES = int(os.environ.get("WORKBENCH_FUZZ_EXAMPLES", "250"))
#: per-load bounds: a mutated 2 KB file must be accepted or refused well within these
MAX_SECONDS = 2.0
MAX_PEAK_BYTES = 64 * 1024**2

TOKENS = ["&a ", "*a", "&b [*a, *a, *a, *a]", "!!python/object/apply:os.system ['true']", "!tag ", "[", "]", "{",
          "}", ": ", "- ", "? ", "|", ">", "'", '"', "#", "\t", "\n", "  ", ",", "NO", "yes", "~", "null", ".nan",
          ".inf", "-.inf", "1e309", "-1", "0", "1,000", "1 000", "1,5", "0x1F", "0o17", "1_000", "2024-01-01",
          "<<: *a", "%YAML 1.2\n---\n", "---", "...", "\x00", "\ufeff", "é", "重庆", "\u00b5s", "\u03bcs",
          "[MW]", "[furlong]", "[10**10**10 m]", "kW", "Gbit/s", "USD", "degree_north", "../../etc/passwd",
          "csv: sites.csv", "rows: []", "count", "installed", "endpoints", "tables:", "workbench: 2"]


@functools.cache
def _warm_up() -> None:
    """Load the good file once: the plugin manager, unit registry, catalogues and imports are built once per
    process and are not part of the time or memory of loading one file."""
    wb.load_scenario(TINY / "scenario.yaml")


def _mutate(data: bytes, ops: list) -> bytes:
    for kind, pos, arg in ops:
        n = len(data)
        i = pos % (n + 1)
        if kind == "insert":
            data = data[:i] + arg.encode("utf-8", "surrogatepass") + data[i:]
        elif kind == "delete":
            data = data[:i] + data[i + 1 + len(arg) % 8:]
        elif kind == "replace":
            data = data[:i] + arg.encode("utf-8", "surrogatepass") + data[i + 1 + len(arg) % 4:]
        elif kind == "byte":
            data = data[:i] + bytes([len(arg) * 37 % 256]) + data[i:]
        else:
            lines = data.split(b"\n")
            j, k = pos % len(lines), (pos // 7 + len(arg)) % len(lines)
            if kind == "dup_line":
                lines.insert(j, lines[k])
            elif kind == "drop_line":
                del lines[j]
            elif kind == "swap_lines":
                lines[j], lines[k] = lines[k], lines[j]
            data = b"\n".join(lines)
    return data


_text = st.one_of(st.sampled_from(TOKENS), st.text(min_size=1, max_size=6))
_op = st.tuples(st.sampled_from(["insert", "delete", "replace", "byte", "dup_line", "drop_line", "swap_lines"]),
                st.integers(min_value=0, max_value=10_000), _text)
_mutations = st.lists(st.tuples(st.sampled_from(FILES), st.lists(_op, min_size=1, max_size=6)), min_size=1,
                      max_size=3)
_encoding = st.sampled_from([None, None, None, "utf-8-sig", "utf-16", "gbk"])


@settings(max_examples=EXAMPLES, deadline=timedelta(seconds=10), derandomize=not os.environ.get("WORKBENCH_FUZZ_RANDOM"),
          database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(mutations=_mutations, encoding=_encoding)
def test_mutated_scenario_files_load_or_fail_with_one_line_problems(tmp_path_factory, mutations, encoding):
    folder = tmp_path_factory.mktemp("fuzz")
    for name in FILES:
        shutil.copy(TINY / name, folder / name)
    for name, ops in mutations:
        path = folder / name
        data = _mutate(path.read_bytes(), ops)
        if encoding is not None and name == mutations[0][0]:
            data = data.decode("utf-8", "replace").encode(encoding, "replace")
        path.write_bytes(data)
    _warm_up()
    tracemalloc.start()
    start = time.perf_counter()
    try:
        scenario = wb.load_scenario(folder / "scenario.yaml")
    except ScenarioError as err:
        assert err.problems, "a ScenarioError without problems"
        for problem in err.problems:
            text = str(problem)
            assert "\n" not in text and text.strip(), repr(text)
            assert problem.file or problem.field, text  # every problem says where
    else:
        assert isinstance(scenario, wb.Scenario)
    finally:
        elapsed = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert elapsed < MAX_SECONDS, f"load took {elapsed:.2f} s"
    assert peak < MAX_PEAK_BYTES, f"load used {peak / 1024**2:.0f} MiB"


@pytest.mark.parametrize("name", FILES)
def test_the_unmutated_files_load(name, tmp_path):
    for n in FILES:
        shutil.copy(TINY / n, tmp_path / n)
    assert wb.load_scenario(tmp_path / "scenario.yaml").name == "tiny"
