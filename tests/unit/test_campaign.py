from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bot.datafile import DataFileError
from bot.paris import PARIS
from scheduler.campaign import Campaign, Edition, Phase, load_campaign, status

EDITION_2027 = Edition(
    name="2027",
    opens=dt.date(2027, 1, 15),
    closes=dt.date(2027, 3, 31),
    results=dt.date(2027, 6, 15),
)
CAMPAIGN = Campaign(editions=(EDITION_2027,))


def at(day: str, time: str = "12:00") -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T{time}").replace(tzinfo=PARIS)


@pytest.mark.parametrize(
    ("moment", "phase", "days_left"),
    [
        (at("2027-01-14", "23:59"), Phase.UPCOMING, None),
        (at("2027-01-15", "00:00"), Phase.OPEN, 75),
        (at("2027-03-31", "23:59"), Phase.OPEN, 0),
        (at("2027-04-01", "00:00"), Phase.CLOSED, None),
    ],
)
def test_status_follows_paris_calendar_days(
    moment: dt.datetime, phase: Phase, days_left: int | None
) -> None:
    current = status(CAMPAIGN, moment)
    assert current.phase is phase
    assert current.edition == EDITION_2027
    assert current.days_left == days_left


def test_status_uses_paris_time_whatever_the_offset_of_now() -> None:
    # 23:30 UTC on 31 March is already 1 April in Paris (UTC+2 in summer time).
    late = dt.datetime(2027, 3, 31, 23, 30, tzinfo=dt.UTC)
    assert status(CAMPAIGN, late).phase is Phase.CLOSED


def test_empty_calendar_is_unknown() -> None:
    assert status(Campaign(), at("2027-01-01")).phase is Phase.UNKNOWN


def test_shipped_calendar_loads_sorted(campaign: Campaign) -> None:
    names = [e.name for e in campaign.editions]
    assert names == sorted(names)
    assert {"2021", "2023", "2025"} <= set(names)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "campaign.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            'editions:\n  - name: "2027"\n    opens: 2027-03-01\n    closes: 2027-01-01\n',
            ":2: editions: closes (2027-01-01) is before opens (2027-03-01)",
        ),
        (
            'editions:\n  - name: "2027"\n    opens: 2027-13-01\n    closes: 2027-01-01\n',
            ":3: editions.opens: Input should be a valid date",
        ),
        (
            'editions:\n  - name: "2027"\n    opens: 2027-01-01\n    closes: 2027-02-01\n    end: x\n',
            ":5: editions.end: is not a known field",
        ),
        (
            'editions:\n  - name: "a"\n    opens: 2027-01-01\n    closes: 2027-02-01\n'
            '  - name: "b"\n    opens: 2027-01-15\n    closes: 2027-03-01\n',
            ":5: edition b overlaps edition a",
        ),
    ],
)
def test_invalid_calendar_is_reported_on_its_line(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(DataFileError) as caught:
        load_campaign(path)
    assert str(caught.value.problems[0]).startswith(str(path) + expected)
