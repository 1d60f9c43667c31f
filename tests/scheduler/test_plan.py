"""The default plan, per-edition overrides, templates and their validation (`check_plan`)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bot.datafile import DataFileError
from scheduler.campaign import Edition, default_campaign_file, load_campaign
from scheduler.plan import campaign_plan, edition_plan
from scheduler.templates import check_plan, default_templates_file, load_templates
from tests.scheduler.season import EXPECTED, paris, write_calendar


def test_default_plan_of_an_edition() -> None:
    edition = Edition(
        name="2027",
        opens=dt.date(2027, 3, 1),
        closes=dt.date(2027, 5, 31),
        results=dt.date(2027, 6, 30),
    )
    assert [(a.id, a.due) for a in edition_plan(edition)] == EXPECTED


def test_short_campaign_drops_reminders_that_fall_before_opening_and_no_results_day() -> None:
    edition = Edition(name="2025", opens=dt.date(2025, 9, 19), closes=dt.date(2025, 10, 19))
    assert [a.kind for a in edition_plan(edition)] == [
        "opening",
        "reminder-7",
        "reminder-1",
        "closing",
    ]


def test_overrides_move_or_drop_announcements_in_paris_time() -> None:
    edition = Edition.model_validate(
        {
            "name": "2027",
            "opens": "2027-03-01",
            "closes": "2027-05-31",
            "announcements": {"opening": "2027-03-01 14:30", "reminder-30": False},
        }
    )
    plan = {a.kind: a.due for a in edition_plan(edition)}
    assert plan["opening"] == paris(2027, 3, 1, 14, 30)
    assert "reminder-30" not in plan


def test_calendar_errors_in_overrides_are_located(tmp_path: Path) -> None:
    text = (
        'editions:\n  - name: "2027"\n    opens: 2027-03-01\n    closes: 2027-05-31\n'
        "    announcements:\n      reminder-3: false\n      closing: 2027-13-45\n"
    )
    with pytest.raises(DataFileError) as caught:
        load_campaign(write_calendar(tmp_path, text))
    messages = [str(p).split(":", 1)[1] for p in caught.value.problems]
    assert messages[0].startswith("6: editions.announcements.reminder-3: is not a known field")
    assert messages[1].startswith("7: editions.announcements.closing:")


def test_shipped_calendar_and_templates_are_valid() -> None:
    assert check_plan(default_campaign_file()) == []
    plan = campaign_plan(load_campaign(default_campaign_file()))
    assert [a.id for a in plan if a.edition.name == "2025"] == [
        "2025:opening",
        "2025:reminder-7",
        "2025:reminder-1",
        "2025:closing",
        "2025:results",
    ]


def write_templates(tmp_path: Path, replace: tuple[str, str]) -> Path:
    text = default_templates_file().read_text(encoding="utf-8").replace(*replace)
    path = tmp_path / "templates.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def line_of(path: Path, needle: str) -> int:
    """The last line holding `needle` (the file's header comments mention some fields)."""
    return [n for n, line in enumerate(path.read_text().splitlines(), 1) if needle in line][-1]


def test_unknown_field_in_a_template_is_reported_on_its_line(tmp_path: Path) -> None:
    path = write_templates(tmp_path, ("ferme ce soir, {{ closes }}", "ferme ce soir, {{ fin }}"))
    (problem,) = check_plan(default_campaign_file(), path)
    assert problem.line == line_of(path, "{{ fin }}")
    assert problem.message.startswith("closing: unknown field 'fin' (known: closes, days_left")


def test_unknown_key_and_jinja_syntax_errors_are_reported(tmp_path: Path) -> None:
    path = write_templates(tmp_path, ("max_length: 500", "max_length: 500\ncolour: red"))
    (problem,) = check_plan(default_campaign_file(), path)
    assert (problem.line, problem.message) == (
        line_of(path, "colour"),
        "colour: is not a known field",
    )
    path = write_templates(tmp_path, ("{% if page is defined %}", "{% if page is defined"))
    (problem,) = check_plan(default_campaign_file(), path)
    # Jinja notices the unclosed tag at the next token, on the following line.
    assert problem.line == line_of(path, "{% if page is defined") + 1
    assert problem.message == "results: expected token 'end of statement block', got 'lauréats'"


def test_field_missing_for_an_edition_and_too_long_texts_are_found_by_rendering(
    tmp_path: Path,
) -> None:
    calendar = write_calendar(
        tmp_path, 'editions:\n  - name: "2027"\n    opens: 2027-03-01\n    closes: 2027-05-31\n'
    )
    path = write_templates(
        tmp_path, ("Pour candidater :", "Page : {{ page }}\n    Pour candidater :")
    )
    problems = check_plan(calendar, path)
    assert [p.message for p in problems] == ["opening for edition 2027: 'page' is undefined"]
    path = write_templates(tmp_path, ("max_length: 500", "max_length: 100"))
    problems = check_plan(calendar, path)
    assert len(problems) == 5
    assert problems[0].message.startswith("opening for edition 2027: ")
    assert problems[0].message.endswith("characters, more than max_length 100")
    assert load_templates(default_templates_file()).settings.max_length == 500


MOVED = (
    'editions:\n  - name: "2027"\n    opens: 2027-03-01\n    closes: 2027-05-31\n'
    "    announcements:\n      reminder-30: 2027-05-19 09:00\n"
)


def test_a_moved_reminder_says_the_true_number_of_days_left(tmp_path: Path) -> None:
    calendar = write_calendar(tmp_path, MOVED)
    plan = {a.kind: a for a in campaign_plan(load_campaign(calendar))}
    assert plan["reminder-30"].days_left == 12
    assert plan["reminder-7"].days_left == 7
    assert plan["opening"].days_left is None
    text = load_templates(default_templates_file()).render(plan["reminder-30"])
    assert text.startswith("Plus que 12 jours pour candidater")
    assert check_plan(calendar) == []


def test_check_flags_a_reminder_template_that_hard_codes_the_days(tmp_path: Path) -> None:
    path = write_templates(tmp_path, ("Plus que {{ days_left }} jours", "Plus que 30 jours"))
    problems = check_plan(write_calendar(tmp_path, MOVED), path)
    assert [p.message for p in problems] == [
        "reminder-30 for edition 2027: says 30 days but is due 12 days before closing: "
        "use {{ days_left }}",
        "reminder-7 for edition 2027: says 30 days but is due 7 days before closing: "
        "use {{ days_left }}",
    ]
    assert problems[0].line == line_of(path, "Plus que 30 jours") - 3  # the section's line


def test_check_flags_a_reminder_moved_to_closing_day(tmp_path: Path) -> None:
    calendar = write_calendar(tmp_path, MOVED.replace("2027-05-19", "2027-05-31"))
    assert [p.message for p in check_plan(calendar)] == [
        "reminder-30 for edition 2027: due on closing day"
    ]
