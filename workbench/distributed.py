"""One place that turns ``None`` / an address / a Client / an environment variable into a Dask client.

Every parallel entry point of the workbench (``Study.optimize``, ``wb.sweep``, the ``optimize`` and
``sweep`` commands) resolves its ``client`` argument here, so a notebook, a laptop and a cluster run
the same code:

========================================  =========================================================
``client=`` argument                      what is used (and whether the caller owns it)
========================================  =========================================================
a ``distributed.Client``                  that client, as is (not owned: never closed here)
``"tcp://host:8786"`` (any address)       a new ``Client(address)`` (owned: the connection only)
``None`` and ``WORKBENCH_SCHEDULER`` set  a new ``Client`` to that address (owned)
``None`` and ``DASK_SCHEDULER_ADDRESS``   a new ``Client`` to that address (owned)
``None`` otherwise                        a ``LocalCluster`` sized to the machine: one single-threaded
                                          worker process per core (owned: cluster and client)
========================================  =========================================================

``WORKBENCH_SCHEDULER`` wins over ``DASK_SCHEDULER_ADDRESS`` (the latter is dask's own variable,
also read by ``dask.config`` as ``scheduler-address``).

``LocalCluster`` starts its workers with ``spawn``: a script that creates one must guard its entry
point with ``if __name__ == "__main__":`` (STACK-NOTES 2), and a script fed on stdin cannot start
one at all.

Examples
--------
>>> from workbench.distributed import dask_client
>>> with dask_client(None, n_workers=2) as client:       # doctest: +SKIP
...     print(client.nthreads())
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Iterator, Mapping
from typing import Any

from .errors import WorkbenchError

#: Environment variables read when ``client=None``, in order of precedence.
SCHEDULER_ENV_VARS = ("WORKBENCH_SCHEDULER", "DASK_SCHEDULER_ADDRESS")

#: Seconds to wait for a scheduler to answer before giving up with a clear error [s]. Assumed: 5 s; a
#: reachable scheduler answers in well under a second on a LAN (2.5-4.1 s for workers to register on
#: this 2-core machine is a different wait, STACK-NOTES 3); a wrong address should fail fast. Override
#: with ``connect_timeout=`` or ``--connect-timeout``.
CONNECT_TIMEOUT_S = 5.0

__all__ = ["CONNECT_TIMEOUT_S", "SCHEDULER_ENV_VARS", "check_address", "dask_client", "default_n_workers", "get_client",
           "n_worker_threads", "release_client", "scheduler_from_env"]


class DaskConnectionError(WorkbenchError):
    """The scheduler named by an argument or an environment variable could not be reached."""


def default_n_workers() -> int:
    """Worker processes for a local cluster: the CPU cores this process may use [1]."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - macOS / Windows
        return max(1, os.cpu_count() or 1)


def scheduler_from_env(env: Mapping[str, str] | None = None) -> tuple[str, str] | None:
    """``(variable, address)`` of the first non-empty scheduler variable, or None."""
    env = os.environ if env is None else env
    for var in SCHEDULER_ENV_VARS:
        value = (env.get(var) or "").strip()
        if value:
            return var, value
    return None


def check_address(address: str, origin: str = "given as argument") -> str:
    """Return ``address`` stripped if it is a well-formed scheduler address, else raise :class:`DaskConnectionError`.

    ``HOST:PORT`` means ``tcp://HOST:PORT``; a network scheme (tcp, tls, ws, wss) needs a host and a
    port in 1-65535. Nothing is contacted.
    """
    from distributed.comm.addressing import parse_address, parse_host_port
    from distributed.comm.registry import get_backend

    text = str(address).strip()
    expected = "expected tcp://HOST:PORT (e.g. tcp://10.0.0.5:8786)"
    if not text:
        raise DaskConnectionError(f"empty Dask scheduler address ({origin}); {expected}")
    try:
        scheme, location = parse_address(text)
        get_backend(scheme)
        if scheme in ("tcp", "tls", "ws", "wss"):
            host, port = parse_host_port(location)
            if not host or not 0 < int(port) < 65536:
                raise ValueError("a host and a port in 1-65535 are needed")
    except (ValueError, TypeError) as err:
        raise DaskConnectionError(f"not a Dask scheduler address: {text!r} ({origin}): "
                                  f"{str(err).splitlines()[0] if str(err) else type(err).__name__}; {expected}") from None
    return text


async def _probe(address: str, timeout: float) -> None:
    """Open a comm to ``address`` and ask for its identity; raise if the peer is not a Dask scheduler."""
    from distributed.comm import connect
    from distributed.security import Security

    args = Security().get_connection_args("client")  # TLS settings from the dask config, as Client uses
    comm = await connect(address, timeout=timeout, **args)
    try:
        await comm.write({"op": "identity", "reply": True})
        answer = await comm.read()
    finally:
        comm.abort()
    if not isinstance(answer, dict) or answer.get("type") != "Scheduler":
        kind = answer.get("type") if isinstance(answer, dict) else type(answer).__name__
        raise _NotAScheduler(f"the peer answered as {kind!r}, not as a Dask scheduler")


class _NotAScheduler(Exception):
    pass


def _discard_half_built(err: BaseException) -> None:
    """Stop the event loop of a ``Client`` whose constructor failed, so its ``__del__`` neither waits nor
    prints a traceback (distributed closes it from the garbage collector, with a 2 s timeout)."""
    from distributed import Client

    tb = err.__traceback__
    while tb is not None:
        candidate = tb.tb_frame.f_locals.get("self")
        if isinstance(candidate, Client):
            with contextlib.suppress(Exception):
                candidate.status = "closed"
                candidate._loop_runner.stop()
            break
        tb = tb.tb_next


def _connect(address: str, origin: str, timeout: float | None = None):
    """A ``Client`` to ``address``, or :class:`DaskConnectionError` within ``timeout`` seconds.

    The address is checked first; then, under one deadline, the peer is probed (connect, handshake,
    identity) and only if it answers as a scheduler is the ``Client`` built. Both run in a helper
    thread with its own event loop, so a peer that accepts and never answers (an HTTP server, a
    firewall) cannot hold the caller past the deadline, and no half-built Client is left behind.
    """
    import asyncio
    import threading
    import time

    from distributed import Client

    timeout = CONNECT_TIMEOUT_S if timeout is None else float(timeout)
    if not timeout > 0 or not math.isfinite(timeout):
        raise DaskConnectionError(f"connect timeout must be a finite number > 0 s, got {timeout}")
    address = check_address(address, origin)
    deadline = time.monotonic() + timeout
    box: dict[str, Any] = {}
    abandoned = threading.Event()

    def attempt() -> None:
        try:
            asyncio.run(asyncio.wait_for(_probe(address, timeout), timeout))
            left = deadline - time.monotonic()
            if left <= 0 or abandoned.is_set():
                raise TimeoutError("no time left to start the client")
            try:
                client = Client(address, timeout=left, set_as_default=False)
            except BaseException as err:
                _discard_half_built(err)
                raise
            if abandoned.is_set():  # the caller gave up meanwhile: nobody will close it
                with contextlib.suppress(Exception):
                    client.close(timeout=1)
                return
            box["client"] = client
        except BaseException as err:  # noqa: BLE001 - handed to the caller's thread
            box["error"] = err

    worker = threading.Thread(target=attempt, name="workbench-dask-connect", daemon=True)
    worker.start()
    worker.join(timeout + 0.5)  # the helper's own timeouts fire first; this is the hard stop
    if worker.is_alive() or not box:
        abandoned.set()
        raise DaskConnectionError(_failure(address, origin, timeout, "no answer (is it a Dask scheduler?)"))
    if "client" in box:
        return box["client"]
    err = box["error"]
    if isinstance(err, (asyncio.TimeoutError, TimeoutError)):
        reason = str(err).splitlines()[0] if str(err) else "no answer (is it a Dask scheduler?)"
    elif isinstance(err, _NotAScheduler):
        reason = str(err)
    elif isinstance(err, OSError):
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
    else:  # junk on the wire: distributed may read a length of exabytes (MemoryError) or fail to unpack it
        reason = f"it does not speak the Dask protocol ({type(err).__name__})"
    raise DaskConnectionError(_failure(address, origin, timeout, reason)) from None


def _failure(address: str, origin: str, timeout: float, reason: str) -> str:
    return (f"could not connect to the Dask scheduler {address!r} ({origin}) within {timeout:g} s: {reason}. "
            "Start one with `dask scheduler`, raise --connect-timeout, or unset the address to use a local cluster")


def get_client(client: Any = None, *, n_workers: int | None = None, env: Mapping[str, str] | None = None,
               connect_timeout: float | None = None, **cluster_kwargs: Any):
    """Resolve ``client`` to a ``distributed.Client``.

    Parameters
    ----------
    client : None, str or distributed.Client
        See the module docstring.
    n_workers : int, optional
        Worker processes of a new local cluster [1]; default :func:`default_n_workers`. Ignored
        when connecting to an existing scheduler.
    env : mapping, optional
        Environment to read the scheduler variables from (default ``os.environ``).
    connect_timeout : float, optional
        Seconds to wait for a scheduler given by address [s]; default :data:`CONNECT_TIMEOUT_S`.
    **cluster_kwargs
        Passed to ``LocalCluster`` (e.g. ``memory_limit``); defaults are ``threads_per_worker=1``,
        ``processes=True``, no dashboard.

    Returns
    -------
    client : distributed.Client
    owned : bool
        True if this call created the client (and possibly its cluster): release it with
        :func:`release_client` when done.
    """
    from distributed import Client, LocalCluster

    if isinstance(client, Client):
        return client, False
    if isinstance(client, str):
        return _connect(client, "given as argument", connect_timeout), True
    if client is not None:
        raise WorkbenchError(f"client must be None, a scheduler address or a distributed.Client, got "
                             f"{type(client).__name__}")
    found = scheduler_from_env(env)
    if found is not None:
        var, address = found
        return _connect(address, f"from ${var}", connect_timeout), True
    kwargs = {"n_workers": n_workers or default_n_workers(), "threads_per_worker": 1, "processes": True,
              "dashboard_address": None}
    kwargs.update(cluster_kwargs)
    cluster = LocalCluster(**kwargs)
    new = Client(cluster, set_as_default=False)
    new._workbench_cluster = cluster  # closed together with the client by release_client
    return new, True


def release_client(client, owned: bool) -> None:
    """Close a client from :func:`get_client` if the caller owns it (and its local cluster)."""
    if not owned or client is None:
        return
    cluster = getattr(client, "_workbench_cluster", None)
    with contextlib.suppress(Exception):
        client.close()
    if cluster is not None:
        with contextlib.suppress(Exception):
            cluster.close()


@contextlib.contextmanager
def dask_client(client: Any = None, **kwargs: Any) -> Iterator:
    """Context manager around :func:`get_client` / :func:`release_client`."""
    resolved, owned = get_client(client, **kwargs)
    try:
        yield resolved
    finally:
        release_client(resolved, owned)


def n_worker_threads(client) -> int:
    """Total worker threads the scheduler currently knows [1] (at least 1)."""
    try:
        return max(1, int(sum(client.nthreads().values())))
    except Exception:  # a scheduler that is going away: fall back to one chunk
        return 1
