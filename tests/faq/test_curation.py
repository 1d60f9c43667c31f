"""The curation loop: unanswered questions grouped by meaning, exported for the editors."""

from __future__ import annotations

import numpy as np
import yaml

from bot.faq.curation import NEW_ENTRY, Asked, Group, export, group_questions, leaders
from bot.faq.engine import FaqEngine


def test_leaders_group_rows_close_to_a_group_s_first_row() -> None:
    vectors = np.array([[1, 0], [0, 1], [0.8, 0.6], [0.6, 0.8], [-1, 0]], dtype=np.float32)
    assert leaders(vectors, threshold=0.75) == [[0, 2], [1, 3], [4]]


def test_rewordings_are_grouped_and_matched_to_their_closest_entry(engine: FaqEngine) -> None:
    asked = [
        Asked("Mon imprimante n'imprime plus", 1),
        Asked("Jusqu'à quand peut-on déposer un dossier ?", 4),
        Asked("jusqu'à quand peut on déposer le dossier", 2),
        Asked("Quelle est la recette de la tartiflette ?", 1),
    ]
    groups = group_questions(asked, engine.index)
    first = groups[0]
    assert first.questions == (
        "Jusqu'à quand peut-on déposer un dossier ?",
        "jusqu'à quand peut on déposer le dossier",
    )
    assert first.count == 6
    assert first.entry is not None
    assert first.score >= 40
    assert sorted(len(g.questions) for g in groups) == [1, 1, 2]


def test_export_is_yaml_of_entry_to_questions_with_hidden_characters_escaped() -> None:
    groups = [
        Group(("Date limite ?", "payer \u202eenilno\u202c ?"), 3, "calendrier", 71.0),
        Group(("[bold]x[/bold] imprimante",), 1, None, 12.0),
        Group(("date butoir",), 1, "calendrier", 66.0),
    ]
    text = export(groups)
    assert "\u202e" not in text
    assert "\\u202E" in text
    assert yaml.safe_load(text) == {
        "calendrier": ["Date limite ?", "payer \u202eenilno\u202c ?", "date butoir"],
        NEW_ENTRY: ["[bold]x[/bold] imprimante"],
    }
