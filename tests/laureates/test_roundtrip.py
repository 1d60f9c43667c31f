"""Whatever a spreadsheet writes (quotes, separators, encodings), the parser reads it back."""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.laureates.keys import content_digest
from bot.laureates.model import MEDALS, TYPES, Laureate, LaureateList, name_key
from bot.laureates.validate import load_laureates

# Printable text a name can hold, in Windows-1252 too (so the same list can be exported in both).
_LETTERS = st.characters(
    codec="cp1252", categories=("L", "N", "P", "Zs"), exclude_characters="\u00a0"
)
names = (
    st.text(_LETTERS, min_size=1, max_size=40).map(lambda s: " ".join(s.split())).filter(name_key)
)
laureates = st.builds(
    Laureate,
    name=names,
    kind=st.sampled_from(TYPES),
    territory=names,
    distinction=st.sampled_from(MEDALS),
    mention=st.none() | names,
)
# Names equal once folded are one collectivity: the parser refuses the second as a duplicate.
lists = st.lists(laureates, min_size=1, max_size=8, unique_by=lambda x: name_key(x.name))


@settings(max_examples=60, deadline=None)
@given(lists, st.sampled_from([",", ";"]), st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]))
def test_csv_writer_to_parser_round_trip(
    written: list[Laureate], delimiter: str, encoding: str
) -> None:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerow(["Collectivité", "Type", "Territoire", "Distinction", "Mention"])
    for x in written:
        writer.writerow([x.name, x.kind, x.territory, x.distinction.name, x.mention or ""])
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "list.csv"
        path.write_bytes(buffer.getvalue().encode(encoding))
        parsed = load_laureates(path, 2025)
    expected = LaureateList(2025, tuple(written), path)
    assert parsed == expected
    assert content_digest(parsed) == content_digest(expected)
