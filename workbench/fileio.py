"""Atomic writes: results are written to a temporary sibling and renamed into place.

A crash or a bad input therefore never leaves a half-written file where a good one was.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path


class atomic_path:
    """Context manager giving a temporary sibling path, renamed onto ``path`` on success."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __enter__(self) -> Path:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent)
        os.close(fd)
        os.unlink(tmp)
        self.tmp = Path(tmp)
        return self.tmp

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            if self.path.is_dir() and self.tmp.is_dir():
                shutil.rmtree(self.path)
            os.replace(self.tmp, self.path)
        elif self.tmp.is_dir():
            shutil.rmtree(self.tmp, ignore_errors=True)
        elif self.tmp.exists():
            self.tmp.unlink()
