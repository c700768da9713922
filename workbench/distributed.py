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

__all__ = ["CONNECT_TIMEOUT_S", "SCHEDULER_ENV_VARS", "dask_client", "default_n_workers", "get_client",
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


def _connect(address: str, origin: str, timeout: float | None = None):
    from distributed import Client

    timeout = CONNECT_TIMEOUT_S if timeout is None else float(timeout)
    if not timeout > 0:
        raise DaskConnectionError(f"connect timeout must be > 0 s, got {timeout}")
    try:
        return Client(address, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError) as err:
        raise DaskConnectionError(f"could not connect to the Dask scheduler {address!r} ({origin}) within "
                                  f"{timeout:g} s: {str(err).splitlines()[0] if str(err) else type(err).__name__}. "
                                  "Start one with `dask scheduler`, raise --connect-timeout, or unset the address "
                                  "to use a local cluster") from None
    except ValueError as err:  # a malformed address
        raise DaskConnectionError(f"not a Dask scheduler address: {address!r} ({origin}): {err}") from None


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
        if not client.strip():
            raise DaskConnectionError("empty scheduler address")
        return _connect(client.strip(), "given as argument", connect_timeout), True
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
