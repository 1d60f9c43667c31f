"""The 40-laureate palmarès as Mastodon and Telegram will carry it, measured as they measure."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.connectors.telegram.render import escape, message_chunks
from bot.datafile import DataFileError
from bot.french import NBSP
from bot.laureates.check import chat_lines, check_file
from bot.laureates.render import (
    Budget,
    Publication,
    default_laureate_templates_file,
    load_laureate_templates,
    publications,
)
from bot.laureates.validate import load_laureates
from bot.textsplit import mastodon_length, utf16_length

DATA = Path(__file__).parent.parent / "data" / "laureates"
FORTY = DATA / "palmares-2025-40-cp1252.csv"
MASTODON = Budget(500, mastodon_length)
TELEGRAM = Budget(4096, lambda text: utf16_length(escape(text)))
HEADER = "collectivite;type;territoire;distinction;mention;site;fediverse\n"


def publish(
    path: Path, edition: int = 2025, templates: Path | None = None, telegram: Budget = TELEGRAM
) -> tuple[Publication, Publication]:
    mastodon, digest = publications(
        load_laureates(path, edition),
        load_laureate_templates(templates),
        mastodon=MASTODON,
        telegram=telegram,
    )
    return mastodon, digest


def templates_with(tmp_path: Path, old: str, new: str) -> Path:
    text = default_laureate_templates_file().read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "laureates.yaml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


def write_list(tmp_path: Path, *rows: str) -> Path:
    path = tmp_path / "list.csv"
    path.write_text(HEADER + "".join(f"{row}\n" for row in rows), encoding="utf-8")
    return path


def test_a_summary_then_forty_replies_in_file_order_within_the_limit() -> None:
    laureates = load_laureates(FORTY, 2025).laureates
    mastodon, _ = publish(FORTY)
    assert mastodon.target_kind == "mastodon"
    assert mastodon.threaded
    assert len(mastodon.texts) == len(mastodon.keys) == len(set(mastodon.keys)) == 41
    summary, *replies = mastodon.texts
    assert summary.startswith(f"Palmarès 2025 du label Territoire Numérique Libre{NBSP}: bravo")
    assert f"Label Or{NBSP}: 16" in summary
    assert "#TerritoireNumériqueLibre" in summary
    for laureate, reply in zip(laureates, replies, strict=True):
        assert reply.startswith(f"{laureate.name} ({laureate.kind}, {laureate.territory})")
        assert f"obtient {laureate.distinction.phrase} au palmarès" in reply
        if laureate.fediverse:
            assert laureate.fediverse in reply.split()
    assert max(mastodon_length(text) for text in mastodon.texts) <= 500


def test_separate_and_summary_only_are_configurable(tmp_path: Path) -> None:
    separate, _ = publish(
        FORTY, templates=templates_with(tmp_path, "mastodon: thread", "mastodon: separate")
    )
    assert (len(separate.texts), separate.threaded) == (41, False)
    assert "Chaque lauréat est présenté dans ce fil" not in separate.texts[0]
    only, _ = publish(
        FORTY, templates=templates_with(tmp_path, "mastodon: thread", "mastodon: summary-only")
    )
    assert only.texts == separate.texts[:1]
    assert only.keys == separate.keys[:1]


def test_the_telegram_digest_is_grouped_by_distinction_best_first() -> None:
    laureates = load_laureates(FORTY, 2025).laureates
    _, digest = publish(FORTY)
    assert (digest.target_kind, len(digest.texts)) == ("telegram", 1)
    text = digest.texts[0]
    headings = ["Label Or (16)", "Label Argent (2)", "Label Bronze (6)", "Badge (16)"]
    positions = [text.index(f"\n\n{heading}\n") for heading in headings]
    assert positions == sorted(positions)
    for laureate in laureates:
        line = f"• {laureate.name} ({laureate.kind}, {laureate.territory})"
        assert text.count(line + "\n") + text.count(line + " —") == 1
        section = max(p for p in positions if p < text.index(line))
        assert text[section:].startswith(f"\n\n{laureate.distinction.heading} (")


def test_a_long_digest_is_cut_between_lines_each_message_within_telegram_s_limit() -> None:
    _, whole = publish(FORTY)
    small = Budget(700, TELEGRAM.length)
    _, digest = publish(FORTY, telegram=small)
    assert len(digest.texts) > 4
    assert len(set(digest.keys)) == len(digest.texts)
    assert all(utf16_length(escape(text)) <= 700 for text in digest.texts)
    lines = [line for text in digest.texts for line in text.splitlines() if line]
    assert lines == [line for line in whole.texts[0].splitlines() if line]
    for text in whole.texts:  # what the connector will send: one message per chunk
        assert message_chunks(text) == [escape(text)]


def test_levels_of_the_editions_before_2025(tmp_path: Path) -> None:
    path = write_list(
        tmp_path,
        "Ville de Brumeval;commune;Finistère;niveau 4;;;",
        "Ville de Fictiveville;commune;Hérault;5;;;",
    )
    mastodon, digest = publish(path, 2022)
    assert "obtient le niveau 4 au palmarès Territoire Numérique Libre 2022." in mastodon.texts[1]
    assert digest.texts[0].index("Niveau 5 (1)") < digest.texts[0].index("Niveau 4 (1)")


def test_hostile_names_are_data_never_markup(tmp_path: Path) -> None:
    names = [
        "<b>Ville</b> de Gras",
        "Ville de [/] Crochet",
        "Ville de {{ edition }}",
        "Ville de *Étoile*",
    ]
    path = write_list(tmp_path, *(f"{name};commune;Finistère;Or;;;" for name in names))
    mastodon, digest = publish(path)
    for name, reply in zip(names, mastodon.texts[1:], strict=True):
        assert reply.startswith(f"{name} (commune, Finistère)")
        assert f"• {name} (commune" in digest.texts[0]
    assert "&lt;b&gt;Ville&lt;/b&gt; de Gras" in message_chunks(digest.texts[0])[0]


def test_an_over_long_post_is_an_error_on_the_laureate_s_line(tmp_path: Path) -> None:
    long_name = "Ville de " + "Trèslongnom-" * 35 + "sur-Mer"
    path = write_list(
        tmp_path,
        "Ville de Brumeval;commune;Finistère;Or;;;",
        f"{long_name};commune;Finistère;Or;;;",
    )
    roomy = Budget(1000, mastodon_length)
    mastodon, _ = publications(
        load_laureates(path, 2025), load_laureate_templates(), mastodon=roomy, telegram=TELEGRAM
    )
    size = mastodon_length(mastodon.texts[2])
    assert size > 500
    problems = check_file(path, 2025, mastodon=MASTODON, telegram=TELEGRAM)
    assert chat_lines(problems) == [
        f"ligne 3{NBSP}: publication de «{NBSP}{long_name}{NBSP}»{NBSP}: {size} caractères sur "
        "Mastodon, plus que les 500 permis par l’instance"
    ]
    assert check_file(path, 2025, mastodon=roomy, telegram=TELEGRAM) == []


def test_check_file_passes_the_shipped_files_and_reports_the_list_s_problems_first() -> None:
    assert check_file(FORTY, 2025, mastodon=MASTODON, telegram=TELEGRAM) == []
    problems = check_file(DATA / "unknown-type.csv", 2025, mastodon=MASTODON, telegram=TELEGRAM)
    assert chat_lines(problems) == [f"ligne 7{NBSP}: type «{NBSP}mairie{NBSP}» inconnu"]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("{{ laureate.name }} (", "{{ laureate.nom }} (", None),
        (
            "{{ count }} collectivités lauréates !",
            "{{ nombre }} collectivités lauréates !",
            "summary: unknown field 'nombre'",
        ),
        (
            "#TerritoireNumériqueLibre #LogicielLibre",
            "#territoirenumeriquelibre",
            "hashtags: '#territoirenumeriquelibre' is not a CamelCase hashtag",
        ),
        (
            "mastodon: thread",
            "mastodon: fil",
            "mastodon: Input should be 'thread', 'separate' or 'summary-only'",
        ),
    ],
)
def test_template_mistakes_are_reported_with_their_line(
    tmp_path: Path, old: str, new: str, expected: str | None
) -> None:
    path = templates_with(tmp_path, old, new)
    line = next(
        n for n, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if new in text
    )
    problems = check_file(FORTY, 2025, mastodon=MASTODON, telegram=TELEGRAM, templates_path=path)
    assert problems, problems
    assert problems[0].path == path
    if expected is None:  # an attribute is only known once rendered: the section's first line
        assert problems[0].message.startswith(
            "laureate: 'bot.laureates.model.Laureate object' has no attribute 'nom'"
        )
    else:
        assert problems[0].message.startswith(expected)
        assert problems[0].line == line


def test_a_template_that_cannot_render_refuses_the_publication(tmp_path: Path) -> None:
    path = templates_with(
        tmp_path,
        "{{ hashtags }} #TNL{{ edition }}\n  # Mastodon: one",
        "{{ laureate.name }}\n  # Mastodon: one",
    )
    with pytest.raises(DataFileError, match="summary: 'laureate' is undefined"):
        publish(FORTY, templates=path)
