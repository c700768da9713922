"""Reading untrusted scenario inputs: text files and YAML, with limits, and never executing anything.

* :func:`read_text` reads a file as UTF-8 text (a UTF-8 byte-order mark is dropped, as Excel writes
  one), refusing files over a size limit, binary files (NUL bytes; known binary formats are named)
  and other encodings (UTF-16/32 by their byte-order mark, GBK/GB18030, Shift-JIS, Windows-1252 by
  trial decoding), each with a message naming the file, and the line of the first bad byte.
* :func:`load_yaml` parses YAML with PyYAML's safe parser and composer (line numbers on every node)
  but builds the values itself, so that

  - scalars follow the YAML 1.2 core schema (``NO``, ``on``, ``y`` stay text; ``0777`` is 777;
    ``2024-01-01`` stays text; only ``true``/``false`` are booleans),
  - a duplicated key is an error naming both lines (PyYAML keeps the last one silently),
  - nesting deeper than :data:`MAX_DEPTH` is refused before the (recursive) composer runs, so no
    ``RecursionError``,
  - alias expansion ("billion laughs") is bounded: the expanded size of the document is computed on
    the composed node graph (linear in the file) and refused above :data:`MAX_NODES`,
  - every tag other than plain data (``!!python/...``, ``!custom``, ``!!binary``, ``!!set``) is
    refused with its line; nothing is ever constructed from a tag, so nothing can run.

Mappings come back as ``dict`` with two extra keys, ``"__line__"`` (line of the mapping) and
``"__lines__"`` (line of each key), which callers strip.
"""

from __future__ import annotations

import codecs
import contextlib
import math
import os
import re
from pathlib import Path
from typing import Any

import yaml

from ..errors import Problem

#: Largest scenario YAML file read [B]. Assumed: 10 MiB; large tables belong in CSV files, and the
#: shipped China scenario file is 2 KB.
MAX_YAML_BYTES = 10 * 1024**2
#: Largest CSV table read [B]. Assumed: 256 MiB, about 2.5 million rows of 100 bytes; the largest
#: shipped table is under 100 KB.
MAX_CSV_BYTES = 256 * 1024**2
#: Deepest nesting of YAML collections. Assumed: a scenario file nests 5 levels (tables > kind > rows
#: > row > value); 32 leaves room and stays far below Python's recursion limit.
MAX_DEPTH = 32
#: Most YAML nodes after alias expansion. Assumed: 2 million, more than a 10 MiB file holds without
#: aliases (about 5 bytes per node at the least), so only alias bombs reach it.
MAX_NODES = 2_000_000

_CORE_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")
_CORE_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_CORE_INT = re.compile(r"^[-+]?[0-9]+$")
_CORE_OCT = re.compile(r"^0o[0-7]+$")
_CORE_HEX = re.compile(r"^0x[0-9a-fA-F]+$")
_CORE_FLOAT = re.compile(r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$")
_CORE_INF = re.compile(r"^[-+]?\.(?:inf|Inf|INF)$")
_CORE_NAN = re.compile(r"^\.(?:nan|NaN|NAN)$")

_TAG = "tag:yaml.org,2002:"
_PLAIN_TAGS = {_TAG + t for t in ("str", "int", "float", "bool", "null", "map", "seq")}
_MAP, _SEQ = _TAG + "map", _TAG + "seq"

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

#: leading bytes of binary formats someone may hand over by mistake -> what they are
_MAGIC = {
    b"\x89HDF\r\n\x1a\n": "an HDF5 / NetCDF-4 file (load it with a .nc suffix)",
    b"CDF\x01": "a NetCDF-3 file", b"CDF\x02": "a NetCDF-3 file",
    b"PK\x03\x04": "a ZIP archive (an .xlsx workbook is one: export the sheet as CSV UTF-8)",
    b"\x1f\x8b": "a gzip archive", b"%PDF": "a PDF document", b"\x89PNG": "a PNG image",
    b"\xd0\xcf\x11\xe0": "an old Office document (.xls: export the sheet as CSV UTF-8)",
    b"\x7fELF": "an executable", b"\x80\x04\x95": "a Python pickle", b"\x80\x05\x95": "a Python pickle",
}
_BOMS = ((codecs.BOM_UTF32_LE, "UTF-32"), (codecs.BOM_UTF32_BE, "UTF-32"), (codecs.BOM_UTF16_LE, "UTF-16"),
         (codecs.BOM_UTF16_BE, "UTF-16"))
#: encodings tried (in order) to name what a non-UTF-8 file is, with the name shown to the user
_GUESSES = (("gb18030", "GBK/GB18030 (Chinese)"), ("shift_jis", "Shift-JIS (Japanese)"),
            ("cp1252", "Windows-1252/Latin-1"))


class FileProblem(Exception):
    """A file cannot be used at all; ``problem`` says why (file, line where known)."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


def _fail(message: str, file: str, line: int | None = None, field: str = "", value: str = "",
          expected: str = "") -> FileProblem:
    return FileProblem(Problem(message, file, line, field, value, expected, root=True))


def read_text(path: str | os.PathLike, *, what: str = "file", max_bytes: int = MAX_YAML_BYTES,
              field: str = "") -> str:
    """Read ``path`` as UTF-8 text (BOM dropped); raise :class:`FileProblem` saying why it cannot be."""
    path = Path(path)
    file = str(path)
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise _fail(f"{what} is {size / 1024**2:,.1f} MiB, over the limit of {max_bytes / 1024**2:,.0f} MiB",
                        file, field=field, expected=f"at most {max_bytes:,} bytes")
        with open(path, "rb") as fh:  # read what stat() announced (+1 to see growth): read(n) allocates n bytes
            data = fh.read(min(size, max_bytes) + 1)
    except OSError as err:
        raise _fail(f"cannot read {what}: {err.strerror or err}", file, field=field) from None
    except ValueError as err:  # a NUL byte in the path
        raise _fail(f"cannot read {what}: {err}", file, field=field) from None
    if len(data) > max_bytes:  # grew while reading (or a special file without a size)
        raise _fail(f"{what} is over the limit of {max_bytes / 1024**2:,.0f} MiB", file, field=field)
    return decode_text(data, file, what=what, field=field)


def decode_text(data: bytes, file: str, *, what: str = "file", field: str = "") -> str:
    """Decode ``data`` as UTF-8 (with or without BOM); name any other encoding or binary format."""
    for magic, name in _MAGIC.items():
        if data.startswith(magic):
            raise _fail(f"{what} is {name}, not UTF-8 text", file, field=field, expected="UTF-8 text")
    for bom, name in _BOMS:
        if data.startswith(bom):
            raise _fail(f"{what} is encoded as {name} (byte-order mark): save it as UTF-8", file, 1, field,
                        expected="UTF-8 text")
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    nul = data.find(b"\x00")
    if nul >= 0:
        sample = data[:4096]
        if sample.count(b"\x00") * 3 >= len(sample):  # every other byte NUL: UTF-16 without a BOM
            raise _fail(f"{what} looks like UTF-16 text without a byte-order mark: save it as UTF-8", file, 1,
                        field, expected="UTF-8 text")
        line = data.count(b"\n", 0, nul) + 1
        raise _fail(f"{what} is binary (a NUL byte at offset {nul:,}), not text", file, line, field,
                    expected="UTF-8 text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        col = err.start - (data.rfind(b"\n", 0, err.start) + 1) + 1
        guess = ""
        for codec, name in _GUESSES:
            try:
                text = data.decode(codec)
            except UnicodeDecodeError:
                continue
            if codec != "gb18030" or re.search(r"[\u4e00-\u9fff]", text):
                guess = f"; it looks like {name}"
                break
        raise _fail(f"{what} is not UTF-8 (byte 0x{data[err.start]:02x} at line {line}, column {col}){guess}: "
                    "save it as UTF-8", file, line, field, expected="UTF-8 text") from None


# -- YAML ----------------------------------------------------------------------------------------------
def load_yaml(text: str, file: str) -> tuple[Any, list[Problem]]:
    """Parse YAML ``text`` into plain Python data (see the module docstring).

    Returns ``(data, problems)``: duplicate keys and refused tags are problems (all of them, with their
    lines; the values are still built, the offending ones left out). A document that cannot be used at
    all (bad syntax, too deep, too large after alias expansion) raises :class:`FileProblem`.
    """
    _check_events(text, file)
    try:
        with _yaml_errors(file):
            root = yaml.compose(text, Loader=_LOADER)
    except RecursionError:  # pragma: no cover - depth is checked first
        raise _fail(f"YAML nested too deeply (more than {MAX_DEPTH} levels)", file) from None
    if root is None:
        return None, []
    _check_expansion(root, file)
    problems: list[Problem] = []
    return _build(root, file, "", problems), problems


def _check_events(text: str, file: str) -> None:
    """Refuse nesting deeper than :data:`MAX_DEPTH` from the event stream (the parser is not recursive)."""
    depth = 0
    with _yaml_errors(file):
        for event in yaml.parse(text, Loader=_LOADER):
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                depth += 1
                if depth > MAX_DEPTH:
                    raise _fail(f"YAML nested more than {MAX_DEPTH} levels deep; a scenario file needs about 5",
                                file, event.start_mark.line + 1, expected=f"at most {MAX_DEPTH} levels")
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1


@contextlib.contextmanager
def _yaml_errors(file: str):
    """Turn PyYAML's parse errors into one-line scenario errors naming file and line."""
    try:
        yield
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        raise _fail(f"not valid YAML: {err.problem or err.context}", file,
                    mark.line + 1 if mark else None) from None
    except yaml.YAMLError as err:
        raise _fail(f"not valid YAML: {err}", file) from None


def _check_expansion(root: yaml.Node, file: str) -> None:
    """Refuse documents whose alias expansion exceeds :data:`MAX_NODES` (computed without expanding)."""
    size: dict[int, int] = {}
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    on_path: set[int] = set()
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            on_path.discard(key)
            if isinstance(node, yaml.MappingNode):
                total = 1 + sum(size[id(k)] + size[id(v)] for k, v in node.value)
            elif isinstance(node, yaml.SequenceNode):
                total = 1 + sum(size[id(v)] for v in node.value)
            else:
                total = 1
            size[key] = total
            if total > MAX_NODES:
                raise _fail(f"YAML expands to more than {MAX_NODES:,} values through aliases (*name); "
                            "refused (an alias bomb, or a table that belongs in a CSV file)", file,
                            node.start_mark.line + 1, expected=f"at most {MAX_NODES:,} values")
            continue
        if key in size:
            continue
        if key in on_path:  # a recursive alias; PyYAML's composer refuses these, kept for safety
            raise _fail("YAML alias refers to its own ancestor", file, node.start_mark.line + 1)
        on_path.add(key)
        stack.append((node, True))
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                stack.extend(((k, False), (v, False)))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((v, False) for v in node.value)


def _scalar(node: yaml.ScalarNode) -> Any:
    """A scalar by the YAML 1.2 core schema (quoted scalars are always text)."""
    value = node.value
    if node.style in ("'", '"', "|", ">"):
        return value
    if _CORE_NULL.match(value):
        return None
    if value in _CORE_BOOL:
        return _CORE_BOOL[value]
    if _CORE_INT.match(value):
        return int(value)
    if _CORE_OCT.match(value):
        return int(value[2:], 8)
    if _CORE_HEX.match(value):
        return int(value[2:], 16)
    if _CORE_FLOAT.match(value):
        return float(value)
    if _CORE_INF.match(value):
        return -math.inf if value.startswith("-") else math.inf
    if _CORE_NAN.match(value):
        return math.nan
    return value


def _tag_problem(node: yaml.Node, file: str, where: str) -> Problem:
    tag = node.tag.replace(_TAG, "!!")
    return Problem(f"YAML tag {tag!r} refused: scenario files hold plain data only and are never executed",
                   file, node.start_mark.line + 1, where or "<document>", tag, root=True)


#: tags PyYAML's YAML 1.1 resolver gives plain scalars implicitly; such scalars are re-resolved by 1.2 rules
_IMPLICIT_11 = _PLAIN_TAGS | {_TAG + t for t in ("timestamp", "merge", "value", "yaml")}


def _allowed(node: yaml.Node) -> bool:
    if isinstance(node, yaml.ScalarNode):
        return node.tag in (_IMPLICIT_11 if not node.style else _PLAIN_TAGS)  # plain: None (PyYAML) or "" (libyaml)
    return node.tag == (_MAP if isinstance(node, yaml.MappingNode) else _SEQ)


def _build(node: yaml.Node, file: str, where: str, problems: list[Problem]) -> Any:
    if not _allowed(node):
        problems.append(_tag_problem(node, file, where))
        return None
    if isinstance(node, yaml.ScalarNode):
        return _scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return [_build(v, file, f"{where}[{i}]", problems) for i, v in enumerate(node.value)]
    out: dict[str, Any] = {"__line__": node.start_mark.line + 1}
    lines: dict[str, int] = {}
    for k, v in node.value:
        line = k.start_mark.line + 1
        if not isinstance(k, yaml.ScalarNode):
            problems.append(Problem("a mapping key must be plain text, not a list or mapping", file, line,
                                    where or "<document>", root=True))
            continue
        if not _allowed(k):
            problems.append(_tag_problem(k, file, where))
            continue
        key = k.value
        path = f"{where}.{key}" if where else key
        if key in ("__line__", "__lines__"):
            problems.append(Problem(f"the key {key!r} is reserved", file, line, path, root=True))
            continue
        if key in lines:
            problems.append(Problem(f"duplicate key {key!r} (first at line {lines[key]}); YAML keeps only one of "
                                    "them, so one would be silently lost", file, line, path, key, root=True))
            continue
        lines[key] = line
        value = _build(v, file, path, problems)
        out[key] = value
    out["__lines__"] = lines
    return out
