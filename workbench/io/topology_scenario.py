"""Turn a topology file (GraphML, GML, or any format a plugin reads) into a :class:`Scenario`."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

from ..errors import WorkbenchError, WorkbenchWarning
from ..model import Scenario
from ..plugins import get_plugin_manager


class TopologyFormatError(WorkbenchError, ValueError):
    """No reader accepted the file."""


def read_topology_any(path: str | os.PathLike, format: str | None = None):
    """Ask the ``workbench_read_topology`` hook (first result wins) to read ``path``."""

    path = Path(path)
    result = get_plugin_manager().hook.workbench_read_topology(path=path, format=format)
    if result is None:
        raise TopologyFormatError(f"{path}: no topology reader for format {(format or path.suffix) or '?'!r} "
                                  "(built in: graphml, gml; plugins may add more)")
    return result


def scenario_from_topology(path: str | os.PathLike, format: str | None = None, *, warn: bool = True) -> Scenario:
    """Import a topology as a scenario (sites + links; no chips, inventory or devices).

    Problems the importer repaired (filled coordinates, merged parallel edges, dropped nodes) are
    issued as one :class:`~workbench.errors.WorkbenchWarning` listing all of them.
    """
    topo = read_topology_any(path, format)
    notes = [*topo.filled, *topo.dropped]
    if warn and notes:
        warnings.warn(f"{Path(path).name}: " + "; ".join(notes), WorkbenchWarning, stacklevel=2)
    return Scenario.from_tables({"site": topo.sites, "link": topo.links}, name=topo.name,
                                description=f"Imported from {Path(path).name}",
                                attrs={"source_file": Path(path).name, "import_notes": notes},
                                source=str(path))
