"""Atomic writes: results are written to a temporary sibling and renamed into place.

A crash or a bad input therefore never leaves a half-written file where a good one was.

A folder (a Zarr store, a ``to_files`` scenario folder) replaces an existing folder in three
steps: the old folder is renamed aside, the new one renamed into place, then the old one deleted.
A failure in the first two steps leaves the old folder where it was; the temporary folder is
always removed. The current folder and its parents are never a target.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import WorkbenchError

if TYPE_CHECKING:
    import xarray as xr


def refuse_enclosing_folder(path: Path) -> None:
    """Raise :class:`WorkbenchError` if ``path`` is the current folder or one of its parents.

    Replacing such a folder would pull the ground from under the running process (and a shell's
    ``--out .`` is far more likely a slip than a wish to replace the folder one stands in).
    """
    text = str(path)
    try:
        target = Path(os.path.abspath(path))
        cwd = Path(os.getcwd())
    except (OSError, ValueError):  # a deleted working folder, a NUL byte: let the write itself fail
        return
    if text in (".", "..", "") or path.name in ("", ".", "..") or cwd == target or cwd.is_relative_to(target):
        raise WorkbenchError(f"refusing to write to {text!r}: it is the current folder or one of its parents; "
                             "give a new folder (e.g. --out exported)")


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(OSError):
            path.unlink()


class atomic_path:
    """Context manager giving a temporary sibling path, renamed onto ``path`` on success.

    The caller writes a file or creates a folder at the temporary path. On success a file replaces
    ``path`` in one rename; a folder replaces an existing folder by rename-aside (see the module
    docstring). A file never replaces a folder nor a folder a file (:class:`WorkbenchError`).
    On any failure the temporary path is removed and ``path`` is left as it was.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def __enter__(self) -> Path:
        refuse_enclosing_folder(self.path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent)
        os.close(fd)
        os.unlink(tmp)
        self.tmp = Path(tmp)
        return self.tmp

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            _remove(self.tmp)
            return
        try:
            self._commit()
        except BaseException:
            _remove(self.tmp)
            raise

    def _commit(self) -> None:
        new_is_dir = self.tmp.is_dir()
        if self.path.is_symlink() or (self.path.exists() and self.path.is_dir() != new_is_dir):
            what = "a symbolic link" if self.path.is_symlink() else "a folder" if self.path.is_dir() else "a file"
            raise WorkbenchError(f"{self.path} is {what}; refusing to replace it with a "
                                 f"{'folder' if new_is_dir else 'file'}")
        if not (new_is_dir and self.path.exists()):
            os.replace(self.tmp, self.path)
            return
        aside = Path(tempfile.mkdtemp(prefix=f".{self.path.name}.", suffix=".old", dir=self.path.parent))
        aside.rmdir()  # only the unique name is wanted
        os.rename(self.path, aside)
        try:
            os.rename(self.tmp, self.path)
        except BaseException:
            os.rename(aside, self.path)  # put the old folder back
            raise
        shutil.rmtree(aside, ignore_errors=True)


def _plain_attr(value: Any) -> Any:
    """An attribute value netCDF can store: numpy scalars as Python ones (``numpy.str_`` has no HDF5
    conversion path), booleans as 0/1, numbers, text and 1-D numeric arrays as they are, anything
    else (lists, dicts) as JSON text."""
    import json

    import numpy as np

    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (str, int, float)):
        return str(value) if isinstance(value, str) else value
    if isinstance(value, np.ndarray) and value.ndim == 1 and value.dtype.kind in "iuf":
        return value
    return json.dumps(value, default=lambda o: o.item() if isinstance(o, np.generic) else str(o))


def netcdf_safe(ds: xr.Dataset) -> xr.Dataset:
    """A shallow copy of ``ds`` whose dataset and variable attributes netCDF (h5netcdf) can write.

    Results of analyses may carry numpy scalars (``numpy.str_`` site ids, ``numpy.float64``),
    booleans, lists or dicts in ``attrs``; each is converted by :func:`_plain_attr`, None dropped.
    Used wherever results are written (``analyze --out``, ``workbench run``'s ``results.nc``).
    """
    out = ds.copy(deep=False)
    out.attrs = {k: _plain_attr(v) for k, v in ds.attrs.items() if v is not None}
    for name, var in out.variables.items():
        var.attrs = {k: _plain_attr(v) for k, v in ds.variables[name].attrs.items() if v is not None}
    return out
