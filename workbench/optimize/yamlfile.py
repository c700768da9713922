"""Safe YAML reading with the line of every field, for study and sweep files.

``read_yaml(path)`` returns the plain data (``yaml.safe_load``: no code is constructed) and a
:class:`Lines` map from a field path such as ``("objectives", 1, "name")`` to its 1-based line.
:class:`FileProblems` collects problems and raises them together as one
:class:`~workbench.errors.StudyError` whose message names file, line and field of each.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from ..errors import Problem, StudyError

__all__ = ["FileProblems", "Lines", "import_reference", "read_yaml"]


class Lines:
    """Line numbers of the fields of a YAML document."""

    def __init__(self, table: dict[tuple, int]) -> None:
        self.table = table

    def __call__(self, path: Sequence) -> int | None:
        path = tuple(path)
        while path:
            if path in self.table:
                return self.table[path]
            path = path[:-1]
        return self.table.get((), None)


def _walk(node, path: tuple, table: dict[tuple, int]) -> None:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            k = key.value if isinstance(key, yaml.ScalarNode) else str(key.start_mark.line)
            table[(*path, k)] = key.start_mark.line + 1
            _walk(value, (*path, k), table)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            table[(*path, i)] = item.start_mark.line + 1
            _walk(item, (*path, i), table)


def field_name(path: Sequence) -> str:
    """``("objectives", 1, "name")`` -> ``objectives[1].name``."""
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


class FileProblems:
    """Problems found in one file; :meth:`raise_if_any` raises them as one StudyError."""

    def __init__(self, file: str, lines: Lines | None = None, what: str = "study file") -> None:
        self.file = file
        self.lines = lines or Lines({})
        self.what = what
        self.items: list[Problem] = []

    def add(self, path: Sequence, message: str, value: Any = "") -> None:
        self.items.append(Problem(message, self.file, self.lines(path), field_name(path),
                                  "" if value == "" else str(value)))

    def raise_if_any(self) -> None:
        if self.items:
            n = len(self.items)
            head = str(self.items[0]) + (f" (and {n - 1} more problem{'s' if n > 2 else ''} in this "
                                         f"{self.what}, listed below)" if n > 1 else "")
            raise StudyError(head + ("\n" + "\n".join(f"  - {p}" for p in self.items[1:]) if n > 1 else ""))


def read_yaml(path: str | Path, what: str = "study file") -> tuple[Any, Lines]:
    """Read a YAML file safely; a syntax error becomes a :class:`StudyError` with its line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise StudyError(f"{path}: cannot read {what}: {err.strerror or err}") from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise StudyError(f"{path}{line}: not valid YAML: {getattr(err, 'problem', None) or err}") from None
    table: dict[tuple, int] = {(): 1}
    if node is not None:
        _walk(node, (), table)
    return data, Lines(table)


def import_reference(ref: str):
    """Import ``"package.module:attribute"`` (user functions named in a study file)."""
    if not isinstance(ref, str) or ":" not in ref:
        raise StudyError(f"expected 'package.module:function', got {ref!r}")
    module, _, attr = ref.partition(":")
    try:
        obj = importlib.import_module(module)
    except ImportError as err:
        raise StudyError(f"cannot import module {module!r} for {ref!r}: {err}") from None
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise StudyError(f"module {module!r} has no attribute {attr!r}") from None
    if not callable(obj):
        raise StudyError(f"{ref!r} is not callable")
    return obj
