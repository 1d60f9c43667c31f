"""Corpus files are built by bot/datafile.py's fast constructor: the same data as PyYAML's."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.datafile import DataFileError, _construct, _Loader, read_yaml

ROOT = Path(__file__).resolve().parents[2]

TRICKY = [
    "a: 1\nb: true\nc: null\nd: 1.5\ne: 2026-11-24\nf: '2026-11-24'\ng: [x, 'y', 3]\n",
    "base: &b {x: 1, y: two}\nuse: *b\nmerged:\n  <<: *b\n  y: three\n",
    "list: &l [a, b]\nagain: *l\n",
    "1: one\n? 2\n: two\nnested: {3: [4, {5: six}]}\n",
    "set: !!set {a, b}\nomap: !!omap [{a: 1}, {b: 2}]\nbinary: !!binary aGVsbG8=\n",
    "= : value key\nplain: text\n",
    "- a\n- [b, c]\n- {d: e}\n- ''\n- ~\n",
    "recursive: &r [*r]\n",
    "text",
]


def _reference(text: str) -> object:
    loader = _Loader(text)
    try:
        return loader.construct_document(loader.get_single_node())
    finally:
        loader.dispose()


def _fast(text: str) -> object:
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        assert root is not None
        return _construct(loader, root)
    finally:
        loader.dispose()


@pytest.mark.parametrize("text", TRICKY)
def test_tricky_documents_are_built_as_pyyaml_builds_them(text: str) -> None:
    assert repr(_fast(text)) == repr(_reference(text))


def test_an_unhashable_key_is_still_reported() -> None:
    with pytest.raises(yaml.MarkedYAMLError):
        _fast("? [a, b]\n: c\n")


def test_every_yaml_file_of_the_project_is_built_as_pyyaml_builds_it() -> None:
    paths = [
        p
        for folder in ("faq_corpus", "scheduler", "tests", "bot")
        for p in sorted((ROOT / folder).rglob("*.yaml"))
    ]
    assert len(paths) > 10
    for path in paths:
        try:
            document = read_yaml(path)
        except DataFileError:
            continue  # a broken file of a test: its problems are the point
        assert document.data == _reference(path.read_text(encoding="utf-8")), path
