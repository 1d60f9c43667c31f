"""The real `tnl-bot run` SIGKILLed in the middle of a palmarès thread, or with questions on
their way to an answer, then started again.

A crash can come between Mastodon creating a status and the bot hearing of it: the restarted
bot must finish the thread without doubling a status (each carries an Idempotency-Key the server
remembers), and the same file confirmed once more must publish nothing new (the outbox keys
derive from the list's content). The fakes and helpers are those of `tests/test_run.py`.
"""

from __future__ import annotations

import datetime as dt
import html
import signal
import sqlite3
from pathlib import Path

import pytest

from tests.fakes.mastodon_entities import Json
from tests.fakes.mastodon_server import FakeMastodon
from tests.fakes.telegram_server import FakeTelegram
from tests.test_run import (
    CHANNEL,
    LAUREATES,
    MASTODON_TOKEN,
    ORGANISER,
    QUESTION,
    Bot,
    environment,
    fakes,
    prepare,
    replies_to,
    running,
    statuses_posted,
)

KILL_AT = 15  # the palmarès status during whose creation the bot is killed (1: the summary)
PREVIEW = "Aperçu de la diffusion"
DONE = "Fin de l’essai : plus rien à publier."


def thread(mastodon: FakeMastodon, bot: Json) -> list[Json]:
    """The palmarès thread as readers follow it: the summary, then each reply in turn."""
    summary = [p for p in statuses_posted(mastodon, bot) if "Palmarès 2025" in p["content"]]
    chain = summary[:1]
    while chain and (following := replies_to(mastodon, chain[-1])):
        chain.append(following[0])
    return chain


async def says(
    bot: Bot, telegram: FakeTelegram, text: str, expected: str, file: bytes | None = None
) -> None:
    """The organiser's message (with the laureates file as a document when given), then until
    an answer containing `expected` (a restarted bot may first answer an update it had not
    acknowledged before it was killed)."""
    before = len(telegram.sent[ORGANISER])
    if file is not None:
        telegram.send_document(ORGANISER, "palmares.csv", file, caption=text)
    else:
        telegram.say(ORGANISER, text)
    await bot.until(
        f"the answer to {text}",
        lambda: any(expected in t for t in telegram.texts(ORGANISER)[before:]),
    )


@pytest.mark.slow
async def test_a_palmares_interrupted_by_sigkill_is_finished_once(tmp_path: Path) -> None:
    prepare(tmp_path, dt.datetime.now(dt.UTC))
    async with fakes() as (telegram, mastodon):
        tnl = mastodon.add_account("tnl", MASTODON_TOKEN, bot=True)
        env = environment(tmp_path, telegram, mastodon)
        (tmp_path / "first").mkdir()
        (tmp_path / "second").mkdir()
        async with running(env, tmp_path / "first") as first:
            await first.until("the opening announcement", lambda: statuses_posted(mastodon, tnl))

            def kill_mid_thread(status: Json) -> None:
                """Killed while Mastodon creates this status: the bot never hears of it."""
                if len(thread(mastodon, tnl)) == KILL_AT:
                    first.process.send_signal(signal.SIGKILL)

            mastodon.on_status_created = kill_mid_thread
            await says(first, telegram, "/laureats 2025", PREVIEW, LAUREATES.read_bytes())
            telegram.say(ORGANISER, "/confirmer")
            await first.process.wait()
            mastodon.on_status_created = None
        assert first.process.returncode == -signal.SIGKILL
        assert len(thread(mastodon, tnl)) == KILL_AT

        async with running(env, tmp_path / "second") as second:
            await second.until("the whole thread", lambda: len(thread(mastodon, tnl)) == 41)
            await second.until(
                "the digest",
                lambda: any(t.startswith("Palmarès 2025") for t in telegram.texts(CHANNEL)),
            )
            await says(second, telegram, "/laureats 2025", PREVIEW, LAUREATES.read_bytes())
            await says(second, telegram, "/confirmer", "confirmée")
            # A broadcast confirmed after it goes out after it: once it is there, the same list's
            # second confirmation has had every chance to publish, and must not have.
            await says(second, telegram, f"/diffuser mastodon {DONE}", PREVIEW)
            await says(second, telegram, "/confirmer", "confirmée")
            await second.until(
                "the last broadcast",
                lambda: any(DONE in html.unescape(s["content"]) for s in mastodon.posts_of(tnl)),
            )
        log = second.log()

    (_, *laureates) = thread(mastodon, tnl)
    names = [row.split(";")[0] for row in LAUREATES.read_bytes().decode("cp1252").splitlines()[1:]]
    contents = [html.unescape(status["content"]) for status in laureates]
    assert [name in text for name, text in zip(names, contents, strict=True)] == [True] * 40
    # Nothing doubled: the bot's statuses are the announcement, the thread and the last one.
    assert len(mastodon.posts_of(tnl)) == 1 + 41 + 1, log
    assert sum(t.startswith("Palmarès 2025") for t in telegram.texts(CHANNEL)) == 1
    assert "Traceback" not in log, log
    # The restarted bot asked again for what it had not heard back about; each request
    # carried its status's Idempotency-Key, and one key made one status.
    keys = [c.idempotency_key for c in mastodon.calls_to("POST", "/api/v1/statuses")]
    assert None not in keys
    assert len(keys) > len(set(keys)) == len(mastodon.posts_of(tnl))


def saved_cursor(data_dir: Path) -> str | None:
    with sqlite3.connect(data_dir / "tnl-bot.sqlite3") as db:
        row = db.execute("SELECT position FROM platform_cursors WHERE platform = 'telegram'")
        found = row.fetchone()
    return None if found is None else str(found[0])


@pytest.mark.slow
async def test_questions_on_their_way_at_a_sigkill_are_answered_once_after_it(
    tmp_path: Path,
) -> None:
    prepare(tmp_path, dt.datetime.now(dt.UTC))
    contacts = range(70_001, 70_021)
    async with fakes() as (telegram, mastodon):
        mastodon.add_account("tnl", MASTODON_TOKEN, bot=True)
        env = environment(tmp_path, telegram, mastodon)
        (tmp_path / "first").mkdir()
        (tmp_path / "second").mkdir()
        async with running(env, tmp_path / "first") as first:
            await first.until("the opening announcement", lambda: telegram.texts(CHANNEL))
            telegram.hold("sendMessage")  # the answers never leave
            last = [telegram.say(contact, QUESTION) for contact in contacts][-1]
            await first.until("Telegram told", lambda: telegram.confirmed(last["update_id"]))
            await first.until("answers on their way", lambda: telegram.holding["sendMessage"])
            first.process.send_signal(signal.SIGKILL)
            await first.process.wait()
        telegram.release("sendMessage")
        assert not any(telegram.texts(contact) for contact in contacts)

        async with running(env, tmp_path / "second") as second:
            await second.until(
                "every question handled",
                lambda: saved_cursor(Path(env["TNL_DATA_DIR"])) == str(last["update_id"]),
                timeout=30,
            )
            log = second.log()
    assert [len(telegram.texts(contact)) for contact in contacts] == [1] * len(contacts), log
    assert "handed over again" in log
