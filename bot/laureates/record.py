"""A published palmarès as the store keeps it: the list in the YAML format organisers may
write themselves, so that reading it back goes through the same validation as any file."""

from __future__ import annotations

import tempfile
from pathlib import Path

import yaml

from bot.laureates.model import Laureate, LaureateList
from bot.laureates.validate import load_laureates


def dumps(palmares: LaureateList) -> str:
    rows = [_row(laureate) for laureate in palmares.laureates]
    return yaml.safe_dump(rows, allow_unicode=True, sort_keys=False)


def loads(text: str, edition: int) -> LaureateList:
    """DataFileError if the text is not a valid list (the store was edited by hand)."""
    with tempfile.TemporaryDirectory(prefix="tnl-palmares-") as folder:
        path = Path(folder) / f"palmares-{edition}.yaml"
        path.write_text(text, encoding="utf-8")
        return load_laureates(path, edition)


def _row(laureate: Laureate) -> dict[str, str]:
    row = {
        "collectivite": laureate.name,
        "type": laureate.kind,
        "territoire": laureate.territory,
        "distinction": laureate.distinction.name,
    }
    optional = {"mention": laureate.mention, "site": laureate.site, "fediverse": laureate.fediverse}
    row.update({key: value for key, value in optional.items() if value})
    return row
