"""Load organiser-edited YAML files into pydantic models, reporting `file:line: message`.

Organisers edit the corpus, the calendar and the templates by hand; a mistake must point at the
line to fix, not at a Python traceback. PyYAML keeps the position of every node, so we keep the
node tree next to the constructed data and translate pydantic's error locations into lines.
"""

from __future__ import annotations

import contextlib
import functools
import gc
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError
from yaml.constructor import SafeConstructor

try:  # libyaml is several times faster when present; positions are the same.
    from yaml import CSafeLoader as _BaseLoader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _BaseLoader  # type: ignore[assignment]


class _Loader(_BaseLoader):
    """Safe loader that leaves dates as text: PyYAML raises a bare ValueError on "2027-13-01",
    with no line, while pydantic parses dates itself and reports the field."""


_Loader.add_constructor(
    "tag:yaml.org,2002:timestamp",
    SafeConstructor.construct_yaml_str,  # type: ignore[type-var]
)

Model = TypeVar("Model", bound=BaseModel)


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a data file, located for a human."""

    path: Path
    line: int
    message: str

    def __str__(self) -> str:
        return f"{display_path(self.path)}:{self.line}: {self.message}"


class DataFileError(Exception):
    """A data file could not be loaded; carries every problem found, in file order."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(sorted(problems, key=lambda p: (str(p.path), p.line)))
        super().__init__("\n".join(str(p) for p in self.problems))


def display_path(path: Path) -> str:
    """Relative to the working directory when inside it, so messages stay short and clickable."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


@dataclass(frozen=True)
class YamlDocument:
    """Constructed data plus the node tree it came from, to locate any sub-value by its path."""

    path: Path
    data: Any
    root: yaml.Node | None

    def line_of(self, location: Sequence[int | str]) -> int:
        """1-based line of the deepest node reachable along `location` (a pydantic `loc`)."""
        return self.lines.line_of(location)

    def problem(self, location: Sequence[int | str], message: str) -> Problem:
        return Problem(self.path, self.line_of(location), message)

    @functools.cached_property
    def lines(self) -> LineMap:
        """What `line_of` needs of the document, to keep once it is validated (the nodes go)."""
        return LineMap(self.path, _lines(self.root) if self.root is not None else None)


# A node's line, and its children's when it has any: a mapping's by key, a sequence's in order.
Lines = int | tuple[int, "dict[str, Lines] | list[Lines]"]


@dataclass(frozen=True)
class LineMap:
    """The lines of a document's nodes, without the nodes: `line_of` as in YamlDocument.

    The node tree is five objects a value with its marks; kept for the 10,000 entries of a
    large corpus (to locate a problem `check` finds later), that was 860,000 objects that
    every full garbage collection walked, 0.3 s each, and a third of the process's memory.
    """

    path: Path
    root: Lines | None

    def line_of(self, location: Sequence[int | str]) -> int:
        """1-based line of the deepest node reachable along `location` (a pydantic `loc`)."""
        node = self.root
        if node is None:
            return 1
        for step in location:
            if isinstance(node, int):
                break
            children = node[1]
            if isinstance(children, dict):
                child = children.get(step) if isinstance(step, str) else None
            elif isinstance(step, int) and 0 <= step < len(children):
                child = children[step]
            else:
                child = None
            if child is None:
                break
            node = child
        return node if isinstance(node, int) else node[0]


def _lines(node: yaml.Node) -> Lines:
    line: int = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        children: dict[str, Lines] = {}
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode):
                children.setdefault(key.value, _lines(value))
        return line, children
    if isinstance(node, yaml.SequenceNode):
        return line, [_lines(item) for item in node.value]
    return line


def _duplicate_keys(node: yaml.Node | None) -> Iterator[tuple[int, str]]:
    """YAML silently keeps the last of two equal keys; an organiser would lose an edit."""
    if isinstance(node, yaml.MappingNode):
        seen: set[Any] = set()
        for key, value in node.value:
            if key.value in seen:
                yield key.start_mark.line + 1, str(key.value)
            seen.add(key.value)
            yield from _duplicate_keys(value)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            yield from _duplicate_keys(item)


@contextlib.contextmanager
def collection_paused() -> Iterator[None]:
    """No cyclic garbage collection inside: for building many objects that all live on.

    A corpus of 10,000 entries is about a million objects (the YAML node trees kept to locate
    problems, the entries, the index); every full collection while they pile up walks them all
    again, which cost `load_corpus` 1.1 s of its 2.2 s. Building them makes little cyclic
    garbage, and the first collection after takes it. Restores the collector only if it ran on
    entry, so nested pauses are fine.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


_STR, _SEQ, _MAP = (f"tag:yaml.org,2002:{kind}" for kind in ("str", "seq", "map"))


class _SharedNode(Exception):
    """A node reached twice (a YAML alias): left to PyYAML, which makes one object of it."""


def _construct(loader: _Loader, root: yaml.Node) -> Any:
    """`loader.construct_document(root)`, with strings, lists and string-keyed mappings built
    directly: PyYAML's constructor goes through a generator and a memo per node, 0.3 s for a
    corpus of 10,000 entries. Every other node (dates, numbers, merge keys, other tags) is
    PyYAML's, and a document with aliases is PyYAML's from the start."""
    seen: set[int] = set()

    def build(node: yaml.Node) -> Any:
        if isinstance(node, yaml.ScalarNode):
            return node.value if node.tag == _STR else loader.construct_object(node, deep=True)
        if id(node) in seen:
            raise _SharedNode
        seen.add(id(node))
        if isinstance(node, yaml.SequenceNode) and node.tag == _SEQ:
            return [build(item) for item in node.value]
        if (
            isinstance(node, yaml.MappingNode)
            and node.tag == _MAP
            and all(isinstance(key, yaml.ScalarNode) and key.tag == _STR for key, _ in node.value)
        ):
            return {key.value: build(value) for key, value in node.value}
        return loader.construct_object(node, deep=True)

    try:
        return build(root)
    except _SharedNode:
        return loader.construct_document(root)


def read_yaml(path: Path) -> YamlDocument:
    """Parse one YAML file, or raise DataFileError with the line of the syntax error."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        raise DataFileError([Problem(path, line, "not valid UTF-8 text")]) from exc
    except OSError as exc:
        raise DataFileError([Problem(path, 1, f"cannot read: {exc.strerror}")]) from exc
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        data = _construct(loader, root) if root is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        reason = exc.problem or exc.context or "invalid YAML"
        raise DataFileError([Problem(path, line, f"YAML syntax error: {reason}")]) from exc
    except yaml.YAMLError as exc:
        raise DataFileError([Problem(path, 1, f"YAML error: {exc}")]) from exc
    finally:
        loader.dispose()
    duplicates = [
        Problem(path, line, f"duplicate key {key!r}") for line, key in _duplicate_keys(root)
    ]
    if duplicates:
        raise DataFileError(duplicates)
    return YamlDocument(path, data, root)


def describe(error: dict[str, Any]) -> str:
    """A pydantic error as an organiser reads it: which field, what is wrong."""
    location = ".".join(str(step) for step in error["loc"] if not isinstance(step, int))
    kind = error["type"]
    if kind == "missing":
        message = "is required"
    elif kind == "extra_forbidden":
        message = "is not a known field"
    else:
        message = str(error["msg"]).removeprefix("Value error, ")
    return f"{location}: {message}" if location else message


def validate(document: YamlDocument, model: type[Model]) -> Model:
    """Validate parsed data against `model`, locating each pydantic error on its line."""
    try:
        return model.model_validate(document.data if document.data is not None else {})
    except ValidationError as exc:
        problems = [document.problem(err["loc"], describe(dict(err))) for err in exc.errors()]
        raise DataFileError(problems) from exc


def load(path: Path, model: type[Model]) -> Model:
    """Read and validate one data file."""
    return validate(read_yaml(path), model)
