"""Thread splitting, hashtags and HTML, without a server."""

from __future__ import annotations

from bot.connectors.mastodon.text import (
    camel_hashtag,
    html_to_text,
    question_of,
    same_text,
    split_thread,
    with_hashtags,
)
from bot.textsplit import mastodon_length

SENTENCE = "La campagne de candidature au label ouvre le 1er avril pour toutes les collectivités. "


def announcement(chars: int) -> str:
    text = ""
    while len(text) < chars:
        text += SENTENCE
        if len(text) % 3 == 0:
            text += "\n\n"
    return text[:chars].rsplit(" ", 1)[0] + "."


def test_a_1200_character_text_becomes_three_numbered_statuses_within_the_limit() -> None:
    text = announcement(1200)
    parts = split_thread(text, 500)
    assert len(parts) == 3
    assert [part.rsplit("\n", 1)[1] for part in parts] == ["1/3", "2/3", "3/3"]
    assert all(mastodon_length(part) <= 500 for part in parts)
    rebuilt = " ".join(part.rsplit("\n\n", 1)[0] for part in parts)
    assert rebuilt.split() == text.split()  # nothing lost, nothing reordered


def test_cuts_fall_between_sentences() -> None:
    parts = split_thread(announcement(1200), 500)
    assert all(part.rsplit("\n\n", 1)[0].endswith(".") for part in parts)


def test_a_short_text_is_one_status_without_marker() -> None:
    assert split_thread("Bonjour !", 500) == ["Bonjour !"]


def test_urls_count_23_characters_and_the_content_warning_is_reserved() -> None:
    url = "https://territoire-numerique-libre.org/" + "x" * 200
    assert mastodon_length(f"Voir {url}.") == len("Voir .") + 23
    assert split_thread(f"Voir {url}", 500) == [f"Voir {url}"]
    parts = split_thread(announcement(480), 500, reserved=40)
    assert len(parts) == 2
    assert all(mastodon_length(p) <= 460 for p in parts)


def test_a_sentence_longer_than_a_status_is_cut_between_words() -> None:
    parts = split_thread("mot " * 300, 500)
    assert all(mastodon_length(p) <= 500 for p in parts)
    assert sum(p.count("mot") for p in parts) == 300


def test_hashtags_are_camel_case_and_added_once() -> None:
    assert camel_hashtag("territoire numérique libre") == "#TerritoireNumériqueLibre"
    tags = ("TerritoireNumériqueLibre",)
    assert with_hashtags("Ouverture #territoirenumeriquelibre", tags) == (
        "Ouverture #TerritoireNumériqueLibre"
    )
    assert with_hashtags("Ouverture.", tags) == "Ouverture.\n\n#TerritoireNumériqueLibre"


def test_html_back_to_text() -> None:
    content = (
        '<p><span class="h-card"><a href="x" class="u-url mention">@<span>tnl</span></a></span>'
        " Qui peut candidater&#x27;?</p><p>Merci<br />beaucoup</p>"
    )
    assert html_to_text(content) == "@tnl Qui peut candidater'?\n\nMerci\nbeaucoup"
    assert question_of(content).startswith("Qui peut candidater'?")
    assert same_text(content, "@tnl Qui peut candidater'?\nMerci beaucoup")


def test_a_thread_keeps_line_breaks_and_never_cuts_a_url() -> None:
    url = "https://territoire-numerique-libre.org/candidater"
    items = "\n".join(f"- étape {n} : voir {url}/{n}" for n in range(1, 30))
    parts = split_thread(f"Les étapes :\n{items}", 500)
    assert len(parts) > 1
    assert all(mastodon_length(p) <= 500 for p in parts)
    bodies = [part.rsplit("\n\n", 1)[0] for part in parts]
    assert "\n".join(bodies) == f"Les étapes :\n{items}"  # cut between lines, nothing else moved
