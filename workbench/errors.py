"""The workbench's error and warning hierarchy.

Every message says what failed, where (file, line, field or plugin) and what was expected.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


def printable(text: str) -> str:
    """``text`` safe for a terminal: newlines become spaces, other non-printable characters (ESC, CR,
    NUL, zero-width and bidi controls ...) their escapes (``\\x1b``, ``\\r``), so an id or a file name
    from an input file can neither move the cursor nor recolour or hide the rest of a message."""
    text = str(text).replace("\n", " ")
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


class WorkbenchError(Exception):
    """Base class of every error the workbench raises on purpose."""


class SchemaError(WorkbenchError, ValueError):
    """A component table does not match the attribute schema."""


class UnitError(WorkbenchError, ValueError):
    """A unit string is unknown or of the wrong dimension."""


class PluginError(WorkbenchError):
    """A plugin failed to load or failed inside a hook; the message names plugin and version."""


class UnknownNameError(WorkbenchError, KeyError):
    """A name (dataset, analysis, chip, command, plugin) that is not known; the message suggests close ones."""

    def __str__(self) -> str:  # KeyError would show the repr of the message
        return str(self.args[0]) if self.args else ""


class StudyError(WorkbenchError, ValueError):
    """A study definition is inconsistent (unknown objective, bad bounds, ...)."""


class ProfileError(WorkbenchError, ValueError):
    """A time profile cannot be evaluated: unknown profile name, device class, green source or season, bad
    snapshots or coordinates, or a table without the column the profile needs (:mod:`workbench.profiles`)."""


class WorkbenchWarning(UserWarning):
    """Recoverable problem shown in notebooks and on the command line."""


class PluginWarning(WorkbenchWarning):
    """A plugin failed to load and was skipped."""


@dataclass(frozen=True)
class Problem:
    """One problem found while reading or validating input.

    Printed as ``file:line: field: message (got X, expected Y)``.

    Attributes
    ----------
    message : str
        What is wrong.
    file : str
        File the problem is in ("" for in-memory data).
    line : int or None
        1-based line in that file, where known.
    field : str
        Dotted location, e.g. ``tables.site.pue`` or ``site[bj-edge].lon``.
    value : str
        The offending value as text ("" where not applicable).
    expected : str
        What was expected instead ("" where the message says it).
    root : bool
        A root cause (unreadable file, bad syntax, missing column, wrong unit of a whole column):
        listed before the problems of single values.
    """

    message: str
    file: str = ""
    line: int | None = None
    field: str = ""
    value: str = ""
    expected: str = ""
    root: bool = False

    def __str__(self) -> str:
        where = self.file or "<scenario>"
        if self.line is not None:
            where += f":{self.line}"
        parts = [where]
        if self.field:
            parts.append(self.field)
        text = ": ".join(parts) + ": " + self.message
        details = []
        if self.value != "":
            shown = self.value if len(self.value) <= 80 else self.value[:77] + "..."
            details.append(f"got {shown!r}")
        if self.expected:
            details.append(f"expected {self.expected}")
        if details:
            text += f" ({', '.join(details)})"
        return printable(text)


#: Problems shown per field (``site.pue``, ``site`` for ids) in a :class:`ScenarioError`'s message; the
#: rest are one "... and N more" line. Assumed: 20 lines show the pattern; a 40,000-row file with one bad
#: column should not print 40,000 lines. :attr:`ScenarioError.problems` keeps every problem.
MAX_SHOWN_PER_FIELD = 20

_ROW_INDEX = re.compile(r"\[[^\]]*\]")


def _field_group(p: Problem) -> tuple[str, str]:
    """The file and the field without row ids: ``site[a].pue`` and ``site[b].pue`` are one group ``site.pue``."""
    return p.file, _ROW_INDEX.sub("", p.field)


def capped(problems: tuple[Problem, ...] | list[Problem], limit: int = MAX_SHOWN_PER_FIELD) -> list[Problem]:
    """``problems`` with at most ``limit`` per file and field, each cut group ending in an "... and N more" line."""
    counts: dict[tuple[str, str], int] = {}
    for p in problems:
        key = _field_group(p)
        counts[key] = counts.get(key, 0) + 1
    if all(n <= limit for n in counts.values()):
        return list(problems)
    out: list[Problem] = []
    seen: dict[tuple[str, str], int] = {}
    for p in problems:
        key = _field_group(p)
        seen[key] = seen.get(key, 0) + 1
        if seen[key] <= limit:
            out.append(p)
        if seen[key] == counts[key] and counts[key] > limit:
            more = counts[key] - limit
            out.append(Problem(f"... and {more} more problem{'s' if more != 1 else ''} in {key[1] or 'this file'}",
                               key[0], field=key[1]))
    return out


class ScenarioError(WorkbenchError, ValueError):
    """A scenario file or table has problems; ``problems`` lists every one of them.

    Root causes come first (:attr:`Problem.root`), then the rest in file and line order. The message
    shows at most :data:`MAX_SHOWN_PER_FIELD` problems per field, then how many more there are.
    """

    def __init__(self, problems: list[Problem] | tuple[Problem, ...], source: str = "") -> None:
        unique = list(dict.fromkeys(problems))
        self.problems = tuple(sorted(unique, key=lambda p: (not p.root, p.file, p.line or 0)))
        self.source = source
        n = len(self.problems)
        head = printable(f"{source or 'scenario'}: {n} problem{'s' if n != 1 else ''}")
        super().__init__(head + "\n" + "\n".join(f"  - {p}" for p in capped(self.problems)))

    def one_line(self) -> str:
        """The first (root) problem on one line, with the count of the others."""
        if not self.problems:
            return f"{self.source or 'scenario'}: invalid"
        more = len(self.problems) - 1
        return str(self.problems[0]) + (f" (and {more} more problem{'s' if more != 1 else ''})" if more else "")
