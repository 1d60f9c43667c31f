from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict

from bot.datafile import DataFileError, load


class Item(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    size: int


class Items(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: list[Item]


def messages(path: Path) -> list[str]:
    with pytest.raises(DataFileError) as caught:
        load(path, Items)
    return [str(p) for p in caught.value.problems]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "items.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_valid_file_loads(tmp_path: Path) -> None:
    items = load(write(tmp_path, "items:\n  - name: a\n    size: 1\n"), Items)
    assert items.items == [Item(name="a", size=1)]


def test_yaml_syntax_error_names_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, "items:\n  - name: a\n    size: [1\n  - name: b\n")
    [message] = messages(path)
    assert message.startswith(f"{path}:4: YAML syntax error")


def test_each_validation_error_is_on_the_line_of_its_value(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "items:\n  - name: a\n    size: big\n  - name: b\n  - name: c\n    size: 3\n    colour: red\n",
    )
    assert messages(path) == [
        f"{path}:3: items.size: Input should be a valid integer, unable to parse string as an integer",
        f"{path}:4: items.size: is required",
        f"{path}:7: items.colour: is not a known field",
    ]


def test_duplicate_keys_are_reported_not_silently_merged(tmp_path: Path) -> None:
    path = write(tmp_path, "items:\n  - name: a\n    size: 1\n    name: b\n")
    assert messages(path) == [f"{path}:4: duplicate key 'name'"]


def test_invalid_utf8_is_reported_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "items.yaml"
    path.write_bytes(b"items:\n  - name: \xff\n")
    assert messages(path) == [f"{path}:2: not valid UTF-8 text"]


def test_missing_file_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "absent.yaml"
    assert messages(path) == [f"{path}:1: cannot read: No such file or directory"]


def test_empty_file_is_a_missing_field(tmp_path: Path) -> None:
    path = write(tmp_path, "# nothing yet\n")
    assert messages(path) == [f"{path}:1: items: is required"]
