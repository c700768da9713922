"""Dask execution: serial == LocalCluster == a real `dask scheduler` with two `dask worker`s, a worker
killed mid-run, `--resume` after the whole run was killed, and client resolution.

The real-process tests are ``slow``: they start ``dask scheduler`` / ``dask worker`` (the only entry
point in dask 2026.8, STACK-NOTES 3) on 127.0.0.1 with ``--no-dashboard``, and always stop them in
``finally``: workers first (SIGTERM), then the scheduler, SIGKILL after a timeout.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from workbench.optimize import Study

STUDIES = Path(__file__).resolve().parents[2] / "studies"
DASK = str(Path(sys.executable).with_name("dask"))


def _zdt_study(n_gen=8, pop=20, cost_ms=0.0, seed=11):
    return Study(space="zdt", space_params={"n_var": 10},
                 objectives=["zdt1_f1", ("zdt1_f2", {"cost_ms": cost_ms}) if cost_ms else "zdt1_f2"],
                 pop_size=pop, n_gen=n_gen, seed=seed, hv_ref=[1.1, 8.0])


def _same(a, b):
    np.testing.assert_array_equal(a["F"].values, b["F"].values)
    np.testing.assert_array_equal(a["X"].values, b["X"].values)
    np.testing.assert_array_equal(a["hypervolume"].values, b["hypervolume"].values)


def test_local_cluster_equals_serial():
    import workbench as wb
    from workbench.distributed import dask_client
    from workbench.optimize.runner import ChunkedDaskRunner

    zdt = _zdt_study()
    placement = Study(space="placement", scenario=wb.load_scenario("china-edwc"),
                      objectives=["annual_cost", "mean_latency", "annual_co2"],
                      constraints=["demand_served", "site_power", "pue_target"], pop_size=20, n_gen=4, seed=3)
    serial = [zdt.optimize("serial"), placement.optimize("serial")]
    with dask_client(None, n_workers=2) as client:
        assert len(client.nthreads()) == 2
        parallel = [zdt.optimize(client), placement.optimize(client)]
        # the runner ships the spec once per run and submits one task per worker per generation
        runner = ChunkedDaskRunner(client)
        problem = zdt.problem(runner)
        X = np.random.default_rng(0).random((10, 10))
        for _ in range(3):
            problem.evaluate(X)
        assert (runner.n_scatters, runner.n_calls, runner.n_tasks) == (1, 3, 6)
        runner.close()
    for a, b in zip(serial, parallel):
        _same(a, b)
    assert parallel[0].attrs["runner"].startswith("dask chunked runner")


def test_explicit_client_is_not_closed_and_env_is_read(monkeypatch):
    from workbench.distributed import get_client, release_client, scheduler_from_env

    assert scheduler_from_env({"DASK_SCHEDULER_ADDRESS": "tcp://a:1", "WORKBENCH_SCHEDULER": "tcp://b:2"}) == \
        ("WORKBENCH_SCHEDULER", "tcp://b:2")
    assert scheduler_from_env({"DASK_SCHEDULER_ADDRESS": " tcp://a:1 "}) == ("DASK_SCHEDULER_ADDRESS", "tcp://a:1")
    assert scheduler_from_env({"WORKBENCH_SCHEDULER": ""}) is None
    with pytest.raises(Exception, match="client must be None"):
        get_client(42)
    monkeypatch.setattr("workbench.distributed.CONNECT_TIMEOUT_S", 1.0)
    with pytest.raises(Exception, match=r"could not connect to the Dask scheduler 'tcp://127.0.0.1:9' \(given"):
        get_client("tcp://127.0.0.1:9")
    release_client(None, True)  # no-op


@pytest.fixture
def peer():
    """Factory: a throwaway TCP server on 127.0.0.1 that accepts and then sends ``reply`` (or nothing)."""
    import socket

    servers, conns = [], []

    def make(reply: bytes | None) -> str:
        srv = socket.socket()
        srv.bind(("127.0.0.1", 0))
        srv.listen()
        servers.append(srv)

        def serve():
            while True:
                try:
                    conn, _ = srv.accept()
                except OSError:
                    return
                conns.append(conn)
                if reply is not None:
                    with contextlib.suppress(OSError):
                        conn.recv(4096)
                        conn.sendall(reply)

        threading.Thread(target=serve, daemon=True).start()
        return f"tcp://127.0.0.1:{srv.getsockname()[1]}"

    yield make
    for c in (*conns, *servers):
        c.close()


@pytest.mark.parametrize(("reply", "words"), [
    (None, "no answer"),  # accepts and never answers (a firewall, a stuck service): hung > 60 s
    (b"HTTP/1.0 400 Bad Request\r\nContent-Length: 0\r\n\r\n", "does not speak the Dask protocol"),
    (b"\xff" * 64, "does not speak the Dask protocol"),  # was "MemoryError (unexpected)"
])
def test_a_peer_that_is_no_scheduler_fails_within_the_timeout(peer, reply, words):
    from workbench.distributed import DaskConnectionError, get_client

    address = peer(reply)
    start = time.perf_counter()
    with pytest.raises(DaskConnectionError) as info:
        get_client(address, connect_timeout=1.0)
    assert time.perf_counter() - start < 3
    text = str(info.value)
    assert f"could not connect to the Dask scheduler {address!r}" in text and "within 1 s" in text and words in text
    assert "\n" not in text


def test_a_malformed_address_is_refused_before_any_client_exists():
    code = textwrap.dedent("""
        import time
        from workbench.cli import main
        start = time.perf_counter()
        rc = main(["optimize", "studies/zdt1.yaml", "--scheduler", "notanaddress", "--out", "/nonexistent/x.nc"])
        print("rc", rc, "elapsed", round(time.perf_counter() - start, 1))
    """)
    root = Path(__file__).resolve().parents[2]
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=60)
    elapsed = time.perf_counter() - start
    err = proc.stderr.strip().splitlines()
    assert "rc 2" in proc.stdout, (proc.stdout, proc.stderr)
    # one line, no Client.__del__ traceback at exit, no 10 s wait
    assert len(err) == 1 and "not a Dask scheduler address: 'notanaddress'" in err[0], proc.stderr
    assert "expected tcp://HOST:PORT" in err[0] and elapsed < 20


# --------------------------------------------------------------------------- real processes


def _stop(procs, timeout=15.0):
    """SIGTERM workers first, then the scheduler (STACK-NOTES 3), SIGKILL what does not exit."""
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(timeout=5)


@pytest.fixture
def dask_processes(tmp_path):
    """A real scheduler and two workers; yields (address, {"w1": Popen, "w2": Popen})."""
    sched_file = tmp_path / "scheduler.json"
    logs = tmp_path / "logs"
    logs.mkdir()
    env = {**os.environ, "DASK_DISTRIBUTED__WORKER__DAEMON": "False"}
    env.pop("DASK_SCHEDULER_ADDRESS", None)
    env.pop("WORKBENCH_SCHEDULER", None)
    sched = subprocess.Popen([DASK, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                              "--scheduler-file", str(sched_file)], stdout=open(logs / "s.out", "w"),
                             stderr=subprocess.STDOUT, env=env)
    workers: dict[str, subprocess.Popen] = {}
    try:
        deadline = time.time() + 30
        while not sched_file.exists() or not sched_file.read_text().strip():
            if time.time() > deadline or sched.poll() is not None:
                raise RuntimeError("scheduler did not start: " + (logs / "s.out").read_text())
            time.sleep(0.1)
        address = json.loads(sched_file.read_text())["address"]
        for name in ("w1", "w2"):
            workers[name] = subprocess.Popen(
                [DASK, "worker", address, "--nthreads", "1", "--name", name, "--memory-limit", "2GiB",
                 "--no-nanny", "--no-dashboard"], stdout=open(logs / f"{name}.out", "w"),
                stderr=subprocess.STDOUT, env=env)
        yield address, workers
    finally:
        _stop(list(workers.values()))
        _stop([sched])


@pytest.mark.slow
def test_real_scheduler_equals_serial_and_survives_a_killed_worker(dask_processes, monkeypatch, tmp_path, capsys):
    from distributed import Client

    from workbench.optimize.cli import main

    address, workers = dask_processes
    study = _zdt_study(n_gen=14, pop=20, cost_ms=5.0)
    serial = study.optimize("serial")
    with Client(address, timeout=30, set_as_default=False) as client:
        client.wait_for_workers(2, timeout=60)
        plain = study.optimize(client)
        _same(serial, plain)

        killed_at = []
        timers = []

        def kill_w1(rec):
            # after generation 5, kill w1 while generation 6's chunks (5 ms x 10 candidates each) are running
            if rec.n_gen == 5:
                timer = threading.Timer(0.02, os.kill, (workers["w1"].pid, signal.SIGKILL))
                timer.start()
                timers.append(timer)
                killed_at.append(rec.n_gen)

        survived = study.optimize(client, on_generation=kill_w1)
        timers[0].join()
        workers["w1"].wait(timeout=10)
        assert killed_at == [5] and workers["w1"].returncode == -signal.SIGKILL
        assert len(client.nthreads()) == 1      # the scheduler lists only w2 now
        _same(serial, survived)

    # the same scheduler through the environment variable (client=None) and through the CLI
    monkeypatch.setenv("WORKBENCH_SCHEDULER", address)
    _same(serial, study.optimize(None))
    monkeypatch.delenv("WORKBENCH_SCHEDULER")
    path = tmp_path / "zdt.yaml"
    path.write_text(textwrap.dedent("""\
        study: 1
        decision_space: {name: zdt, params: {n_var: 10}}
        objectives: [zdt1_f1, zdt1_f2]
        algorithm: {name: nsga2, pop_size: 20, n_gen: 6, seed: 2}
        """))
    out = tmp_path / "cli.nc"
    assert main(["optimize", str(path), "--scheduler", address, "--out", str(out), "--quiet"]) == 0
    assert f"scheduler {address}" in capsys.readouterr().out
    from workbench.optimize import load_result

    _same(Study.from_yaml(path).optimize("serial"), load_result(out))


@pytest.mark.slow
def test_cli_resume_after_kill_gives_the_uninterrupted_front(tmp_path):
    """Kill the whole `optimize` process mid-run (SIGKILL); `--resume` ends where a full run ends."""
    path = tmp_path / "slow-zdt.yaml"
    path.write_text(textwrap.dedent("""\
        study: 1
        name: slow-zdt
        decision_space: {name: zdt, params: {n_var: 10}}
        objectives:
          - zdt1_f1
          - {name: zdt1_f2, params: {cost_ms: 2.0}}   # 2 ms per candidate: ~40 ms per generation
        algorithm: {name: nsga2, pop_size: 20, n_gen: 60, seed: 9}
        """))
    out = tmp_path / "slow.nc"
    ckpt = Path(str(out) + ".checkpoint.pkl")
    cmd = [sys.executable, "-m", "workbench.optimize.cli", "optimize", str(path), "--workers", "0", "--out",
           str(out), "--quiet"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        from workbench.optimize import load_checkpoint

        deadline = time.time() + 60
        done = 0
        while time.time() < deadline and proc.poll() is None:
            if ckpt.exists():
                try:
                    done = len(load_checkpoint(ckpt)["history"])
                except Exception:
                    done = 0
                if done >= 10:
                    break
            time.sleep(0.05)
        assert proc.poll() is None, "the run finished before it could be killed: make it slower"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
    assert 10 <= done < 60 and ckpt.exists() and not out.exists()
    resumed = subprocess.run(cmd + ["--resume"], capture_output=True, text=True, timeout=120)
    assert resumed.returncode == 0, resumed.stderr
    assert "after 60 generations" in resumed.stdout
    from workbench.optimize import load_result

    full = Study.from_yaml(path).optimize("serial")
    got = load_result(out)
    _same(full, got)
    assert not ckpt.exists()
