"""End to end: the real `tnl-bot run` as users start it, configured only by its environment.

The subprocess talks to the in-process fake Telegram Bot API and fake Mastodon (127.0.0.1, random
ports, real-time clocks since the subprocess reads the system clock), keeps its SQLite store in a
temporary data directory, and announces an edition whose opening was due ten minutes ago. The
test drives users through the fakes and polls what the fakes recorded; it never sleeps blindly.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import html
import os
import re
import shutil
import signal
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.config import default_url
from bot.datafile import DataFileError, Problem
from bot.faq.corpus import default_corpus_dir, load_corpus
from bot.faq.engine import FaqEngine
from bot.french import typography
from bot.paris import PARIS
from bot.store.store import Store
from bot.texts import SUBSCRIBED
from scheduler.campaign import load_campaign
from scheduler.plan import campaign_plan
from scheduler.templates import default_templates_file, load_templates
from tests.fakes.mastodon_entities import Json
from tests.fakes.mastodon_server import FakeMastodon
from tests.fakes.telegram_limits import Limits, RealClock
from tests.fakes.telegram_server import FakeTelegram

TNL_BOT = Path(sys.executable).with_name("tnl-bot")
CHANNEL = "@tnl_annonces"
MASTODON_TOKEN = "mastodon-bot-token-ne-jamais-afficher-0123456789"
ALICE_TOKEN = "alice-token"
BOB_TOKEN = "bob-token"
# Configured but refused by the fake (HTTP 401): the partner account's token, as in a revoked one.
PARTNER_TOKEN = "partner-token-revoque-ne-jamais-afficher-9876543210"
WEBHOOK_SECRET = "webhook-secret-ne-jamais-afficher-0123"
ASKER, SUBSCRIBER, LATER_ASKER, ORGANISER = 1001, 1002, 1003, 1005
BROADCAST = "Réunion des collectivités lauréates le 3 juin à Lyon."
LAUREATES = Path(__file__).parent / "data" / "laureates" / "palmares-2025-40-cp1252.csv"
QUESTION = "Qui peut candidater ?"
LATER_QUESTION = "Comment contacter l’équipe du label ?"  # its theme file is the one broken
BROKEN_THEME = "contact.yaml"
TIMEOUT = 15.0  # seconds for any one step; a healthy run takes well under one
STOP_WITHIN = 5.0  # seconds from SIGTERM to exit


@dataclass
class Bot:
    """The running subprocess and where it writes."""

    process: asyncio.subprocess.Process
    output: Path  # stdout and stderr together, in order
    pid_file: Path

    def log(self) -> str:
        return self.output.read_text(encoding="utf-8", errors="replace")

    async def until(
        self, what: str, predicate: Callable[[], object], timeout: float = TIMEOUT
    ) -> None:
        """Poll `predicate` until it holds; fail with the bot's log if it does not in time or
        if the bot died first."""
        deadline = time.monotonic() + timeout
        while not predicate():
            if self.process.returncode is not None:
                pytest.fail(
                    f"tnl-bot exited ({self.process.returncode}) before {what}:\n{self.log()}"
                )
            if time.monotonic() > deadline:
                pytest.fail(f"timed out waiting for {what}; tnl-bot log:\n{self.log()}")
            await asyncio.sleep(0.02)


def calendar(now: dt.datetime) -> str:
    """One edition, open since today (Paris), its opening announcement due ten minutes ago."""
    due = (now - dt.timedelta(minutes=10)).astimezone(PARIS)
    opens = due.date()
    return (
        "editions:\n"
        f'  - name: "{opens.year}"\n'
        f"    opens: {opens.isoformat()}\n"
        f"    closes: {(opens + dt.timedelta(days=60)).isoformat()}\n"
        f"    results: {(opens + dt.timedelta(days=90)).isoformat()}\n"
        "    announcements:\n"
        f"      opening: {due:%Y-%m-%d %H:%M}\n"
    )


def opening_text(campaign_file: Path) -> str:
    """The opening announcement exactly as the shipped templates render it."""
    plan = campaign_plan(load_campaign(campaign_file))
    opening = next(a for a in plan if a.kind == "opening")
    return load_templates(default_templates_file()).render(opening)


def break_theme(path: Path) -> Problem:
    """Make one theme file invalid; return the problem the validator reports for it."""
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace("    answer: >-\n", "    answer: [pas, une, réponse]\n    >-\n", 1),
        encoding="utf-8",
    )
    try:
        load_corpus(path.parent)
    except DataFileError as error:
        return error.problems[0]
    raise AssertionError(f"{path} is still valid")


def files_environment(tmp_path: Path) -> dict[str, str]:
    """Only what the bot is given on purpose: nothing TNL_ leaks from the machine."""
    return {
        "PATH": os.environ.get("PATH", os.defpath),
        "HOME": str(tmp_path / "home"),
        "PTB_TIMEDELTA": "true",
        "TNL_DATA_DIR": str(tmp_path / "data"),
        "TNL_CAMPAIGN": str(tmp_path / "campaign.yaml"),
        "TNL_CORPUS_DIR": str(tmp_path / "corpus"),
        "TNL_WEB_PORT": "0",  # any free port: tests run side by side
    }


def environment(tmp_path: Path, telegram: FakeTelegram, mastodon: FakeMastodon) -> dict[str, str]:
    return {
        **files_environment(tmp_path),
        "TNL_TELEGRAM_TOKEN": telegram.token,
        "TNL_TELEGRAM_API_URL": telegram.url,
        "TNL_TELEGRAM_CHANNEL": CHANNEL,
        "TNL_MASTODON_URL": mastodon.base,
        "TNL_MASTODON_TOKEN": MASTODON_TOKEN,
        "TNL_ORGANISERS": f"telegram:{ORGANISER}",
    }


@asynccontextmanager
async def fakes(limits: Limits | None = None) -> AsyncIterator[tuple[FakeTelegram, FakeMastodon]]:
    """Both fakes, on the real clock; Telegram at its documented limits unless given others."""
    telegram = await FakeTelegram(clock=RealClock(), limits=limits or Limits()).start()
    mastodon = FakeMastodon(RealClock())
    try:
        await mastodon.start()
        yield telegram, mastodon
    finally:
        await mastodon.close()
        await telegram.close()


@asynccontextmanager
async def running(env: dict[str, str], cwd: Path) -> AsyncIterator[Bot]:
    """`tnl-bot run`; killed and reaped whatever happens in the test."""
    output = cwd / "tnl-bot.log"
    with output.open("wb") as sink:
        process = await asyncio.create_subprocess_exec(
            str(TNL_BOT), "run", env=env, cwd=cwd, stdout=sink, stderr=sink
        )
    try:
        yield Bot(process, output, Path(env["TNL_DATA_DIR"]) / "tnl-bot.pid")
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


def prepare(tmp_path: Path, now: dt.datetime) -> None:
    """A home, the calendar, and a copy of the shipped corpus the test may break."""
    (tmp_path / "home").mkdir()
    (tmp_path / "campaign.yaml").write_text(calendar(now), encoding="utf-8")
    shutil.copytree(
        default_corpus_dir(),
        tmp_path / "corpus",
        ignore=shutil.ignore_patterns("*.py", "__pycache__"),
    )


def statuses_posted(mastodon: FakeMastodon, bot: Json) -> list[Json]:
    return [s for s in mastodon.posts_of(bot) if s["in_reply_to_id"] is None]


def replies_to(mastodon: FakeMastodon, status: Json) -> list[Json]:
    return [s for s in mastodon.statuses.values() if s["in_reply_to_id"] == status["id"]]


def status_texts(mastodon: FakeMastodon) -> list[str]:
    """What the bot asked Mastodon to publish (the text, before the server renders HTML)."""
    return [str(c.form.get("status")) for c in mastodon.calls_to("POST", "/api/v1/statuses")]


@dataclass
class Scene:
    """The fakes, their accounts, the running bot, and what it is expected to say."""

    telegram: FakeTelegram
    mastodon: FakeMastodon
    accounts: dict[str, Json]  # Mastodon: the bot "tnl", the asker "alice", "bob"
    bot: Bot
    texts: dict[str, str]  # announcement, answer, later answer: rendered by the test


async def announces_once_started(scene: Scene) -> None:
    """1. The opening announcement reaches the channel and the account."""
    bot, telegram, mastodon = scene.bot, scene.telegram, scene.mastodon
    await bot.until("the pid file", bot.pid_file.exists)
    assert bot.pid_file.read_text().strip() == str(bot.process.pid)
    await bot.until("the announcement on Telegram", lambda: telegram.sent[CHANNEL])
    await bot.until(
        "the announcement on Mastodon", lambda: statuses_posted(mastodon, scene.accounts["tnl"])
    )


async def answers_questions(scene: Scene, question: Json) -> None:
    """2. A private question on Telegram; the Mastodon mention waiting since before the start."""
    bot, telegram, mastodon, accounts = scene.bot, scene.telegram, scene.mastodon, scene.accounts
    telegram.say(ASKER, QUESTION)
    await bot.until("the Telegram answer", lambda: telegram.sent[ASKER])
    assert telegram.texts(ASKER) == [scene.texts["answer"]]
    await bot.until("the Mastodon reply", lambda: replies_to(mastodon, question))
    (reply,) = replies_to(mastodon, question)
    assert reply["account"]["id"] == accounts["tnl"]["id"]
    # Only the asker: not bob, mentioned in the question, nor the bot itself.
    assert [m["id"] for m in reply["mentions"]] == [accounts["alice"]["id"]]
    assert f"@alice {scene.texts['answer']}" in status_texts(mastodon)


async def subscribes(scene: Scene) -> None:
    """3. /abonner in a private chat."""
    scene.telegram.say(SUBSCRIBER, "/abonner")
    await scene.bot.until("the subscription reply", lambda: scene.telegram.sent[SUBSCRIBER])
    assert scene.telegram.texts(SUBSCRIBER) == [typography(SUBSCRIBED)]


async def organiser_broadcasts(scene: Scene) -> None:
    """4. A contact's /diffuser gets the unknown-command answer; the organiser's gets a
    preview, and /confirmer sends it to the channel, the subscriber and Mastodon, once each."""
    telegram, bot = scene.telegram, scene.bot
    telegram.say(ASKER, f"/diffuser {BROADCAST}")
    await bot.until("the refusal", lambda: len(telegram.sent[ASKER]) == 2)
    assert "Je ne connais pas cette commande" in telegram.texts(ASKER)[1]
    telegram.say(ORGANISER, f"/diffuser {BROADCAST}")
    await bot.until("the preview", lambda: telegram.sent[ORGANISER])
    assert "Aperçu de la diffusion n° 1" in telegram.texts(ORGANISER)[0]
    assert not telegram.texts(SUBSCRIBER)[1:]  # nothing before the confirmation
    telegram.say(ORGANISER, "/confirmer")
    await bot.until(
        "the broadcast everywhere",
        lambda: (
            BROADCAST in telegram.texts(CHANNEL)
            and BROADCAST in telegram.texts(SUBSCRIBER)
            and any(BROADCAST in text for text in status_texts(scene.mastodon))
            and len(telegram.sent[ORGANISER]) == 2
        ),
    )
    assert telegram.texts(ORGANISER)[1].startswith("Diffusion n° 1 confirmée")
    # What went out is what the preview showed, hashtags included.
    # (The partner account was asked too, and refused it: its token is revoked.)
    for posted in [text for text in status_texts(scene.mastodon) if BROADCAST in text]:
        assert posted in telegram.texts(ORGANISER)[0]


async def organiser_publishes_laureates(scene: Scene) -> None:
    """5. The organiser sends a 40-laureate spreadsheet export (Windows-1252, semicolons) as a
    Telegram document: a preview, then /confirmer publishes a 41-status thread on Mastodon
    (summary, then each laureate in file order) and the digest to the channel and the
    subscriber, each once."""
    telegram, mastodon, bot = scene.telegram, scene.mastodon, scene.bot
    palmares = LAUREATES.read_bytes()
    telegram.send_document(ORGANISER, "palmares.csv", palmares, caption="/laureats 2025")
    await bot.until("the palmarès preview", lambda: len(telegram.sent[ORGANISER]) == 3)
    assert "Aperçu de la diffusion n° 2" in telegram.texts(ORGANISER)[2]
    telegram.say(ORGANISER, "/confirmer")
    tnl = scene.accounts["tnl"]

    def thread() -> list[Json]:
        summary = [p for p in statuses_posted(mastodon, tnl) if "Palmarès 2025" in p["content"]]
        chain = summary[:1]
        while chain and (next_ := replies_to(mastodon, chain[-1])):
            chain.append(next_[0])
        return chain

    await bot.until(
        "the palmarès everywhere",
        lambda: (
            len(thread()) == 41
            and any(t.startswith("Palmarès 2025") for t in telegram.texts(CHANNEL))
            and any(t.startswith("Palmarès 2025") for t in telegram.texts(SUBSCRIBER))
        ),
    )
    names = [row.split(";")[0] for row in palmares.decode("cp1252").splitlines()[1:]]
    statuses = [html.unescape(status["content"]) for status in thread()[1:]]
    assert [name in status for name, status in zip(names, statuses, strict=True)] == [True] * 40
    assert sum(t.startswith("Palmarès 2025") for t in telegram.texts(CHANNEL)) == 1
    assert sum(t.startswith("Palmarès 2025") for t in telegram.texts(SUBSCRIBER)) == 1


async def keeps_answering_after_a_broken_reload(scene: Scene, corpus: Path) -> None:
    """6. SIGHUP with a broken corpus: `file:line:` in the log, the last valid corpus answers
    (even the questions of the broken file)."""
    bot, telegram = scene.bot, scene.telegram
    problem = break_theme(corpus / BROKEN_THEME)
    located = re.compile(rf"\S*{re.escape(BROKEN_THEME)}:{problem.line}: ")
    bot.process.send_signal(signal.SIGHUP)
    await bot.until("the reload error", lambda: located.search(bot.log()))
    telegram.say(LATER_ASKER, LATER_QUESTION)
    await bot.until("the answer after the reload", lambda: telegram.sent[LATER_ASKER])
    assert telegram.texts(LATER_ASKER) == [scene.texts["later answer"]]


async def stops_on_sigterm(bot: Bot) -> None:
    """7. SIGTERM: exit 0 within seconds, pid file removed."""
    bot.process.send_signal(signal.SIGTERM)
    try:
        code = await asyncio.wait_for(bot.process.wait(), STOP_WITHIN)
    except TimeoutError:
        pytest.fail(f"tnl-bot still running {STOP_WITHIN} s after SIGTERM:\n{bot.log()}")
    assert code == 0, bot.log()
    assert not bot.pid_file.exists()


def published_once(scene: Scene) -> None:
    """Exactly one announcement and one broadcast per platform, the reload included."""
    announcement = scene.texts["announcement"]
    (digest,) = [t for t in scene.telegram.texts(CHANNEL) if t.startswith("Palmarès 2025")]
    assert scene.telegram.texts(CHANNEL) == [announcement, BROADCAST, digest]
    channel_sends = [
        c
        for c in scene.telegram.method_calls("sendMessage")
        if c.params.get("chat_id") == CHANNEL and c.status == 200
    ]
    assert len(channel_sends) == 3
    assert scene.telegram.texts(SUBSCRIBER).count(BROADCAST) == 1
    posted = statuses_posted(scene.mastodon, scene.accounts["tnl"])
    assert [p["visibility"] for p in posted] == ["public"] * 3  # announcement, broadcast, palmarès
    for text in (announcement, BROADCAST):
        creations = [
            c
            for c in scene.mastodon.calls_to("POST", "/api/v1/statuses")
            if str(c.form.get("status")).startswith(text)
        ]
        # The partner account's token is refused: its one attempt fails for good (401, no
        # retry).
        assert [c.status for c in creations].count(401) == 1
        (creation,) = [c for c in creations if c.status != 401]
        assert creation.idempotency_key  # a resend after a crash could not double it


async def test_run_announces_answers_reloads_and_stops_cleanly(tmp_path: Path) -> None:
    now = dt.datetime.now(dt.UTC)
    prepare(tmp_path, now)
    pristine = FaqEngine.from_files(tmp_path / "corpus", tmp_path / "campaign.yaml")
    texts = {
        "announcement": opening_text(tmp_path / "campaign.yaml"),
        "answer": pristine.answer(QUESTION, now).text,
        "later answer": pristine.answer(LATER_QUESTION, now).text,
    }
    async with fakes() as (telegram, mastodon):
        accounts = {
            "tnl": mastodon.add_account("tnl", MASTODON_TOKEN, bot=True),
            "alice": mastodon.add_account("alice", ALICE_TOKEN),
            "bob": mastodon.add_account("bob", BOB_TOKEN),
        }
        # In the notifications when the bot starts: its first poll answers it (the next poll
        # would be 30 s later).
        question = mastodon.post_as(ALICE_TOKEN, f"@tnl @bob {QUESTION}")
        env = environment(tmp_path, telegram, mastodon)
        (tmp_path / "accounts.yaml").write_text(
            f"accounts:\n  partenaire:\n    url: {mastodon.base}\n    token_env: PARTNER_TOKEN\n",
            encoding="utf-8",
        )
        env |= {
            "TNL_MASTODON_ACCOUNTS": str(tmp_path / "accounts.yaml"),
            "PARTNER_TOKEN": PARTNER_TOKEN,
            "TNL_TELEGRAM_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "TNL_TARGETS": "telegram,mastodon:main,mastodon:partenaire",
        }
        async with running(env, tmp_path) as bot:
            scene = Scene(telegram, mastodon, accounts, bot, texts)
            await announces_once_started(scene)
            await answers_questions(scene, question)
            await subscribes(scene)
            await organiser_broadcasts(scene)
            await organiser_publishes_laureates(scene)
            await keeps_answering_after_a_broken_reload(scene, tmp_path / "corpus")
            await stops_on_sigterm(bot)
        published_once(scene)

    # 8. Secrets are never printed, not even in the partner account's 401; no traceback.
    log = bot.log()
    assert "401" in log, log
    for secret in (telegram.token, telegram.token.partition(":")[2], MASTODON_TOKEN):
        assert secret not in log
    for secret in (PARTNER_TOKEN, WEBHOOK_SECRET):
        assert secret not in log
    assert "Traceback" not in log, log
    # The subscription outlived the process.
    store = await Store.open(default_url(tmp_path / "data"))
    try:
        assert await store.subscribers("telegram") == [str(SUBSCRIBER)]
    finally:
        await store.close()


# A stand-in for a running bot: says when it is ready, prints "HUP" for each SIGHUP, and exits
# on SIGTERM. Python runs pending handlers in signal-number order, so a SIGHUP that arrived
# before our SIGTERM is always printed.
STAND_IN = """
import signal, sys, time
signal.signal(signal.SIGHUP, lambda *_: print("HUP", flush=True))
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
print("ready", flush=True)
while True:
    time.sleep(1)
"""


async def test_reload_refuses_a_broken_corpus_and_signals_nothing(tmp_path: Path) -> None:
    """`tnl-bot reload` is "the same as SIGHUP", and SIGHUP re-reads the corpus too: a corpus
    the bot would refuse is reported here, `file:line:`, and the running bot is not signalled."""
    prepare(tmp_path, dt.datetime.now(dt.UTC))
    problem = break_theme(tmp_path / "corpus" / BROKEN_THEME)
    located = re.compile(rf"\S*{re.escape(BROKEN_THEME)}:{problem.line}: ")
    bot = await asyncio.create_subprocess_exec(
        sys.executable, "-c", STAND_IN, stdout=asyncio.subprocess.PIPE
    )
    try:
        assert bot.stdout is not None
        assert await asyncio.wait_for(bot.stdout.readline(), TIMEOUT) == b"ready\n"
        (tmp_path / "data").mkdir()
        (tmp_path / "data" / "tnl-bot.pid").write_text(str(bot.pid))
        reload = await asyncio.create_subprocess_exec(
            str(TNL_BOT),
            "reload",
            env=files_environment(tmp_path),
            cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(reload.communicate(), TIMEOUT)
        bot.send_signal(signal.SIGTERM)
        signalled, _ = await asyncio.wait_for(bot.communicate(), TIMEOUT)
    finally:
        if bot.returncode is None:
            bot.kill()
            await bot.wait()
    report = (out + err).decode()
    assert signalled == b"", f"the running bot was sent SIGHUP; reload said:\n{report}"
    assert reload.returncode == 1, report
    assert located.search(err.decode()), report
    assert "Traceback" not in report


REFUSE_WITHIN = 10.0  # seconds: a bot that starts anyway is killed after this

# (arguments, extra environment, accounts file, what the error output must contain, exit code:
# 2 for a bad setting, 1 for bad data)
MISCONFIGURATIONS = [
    pytest.param(
        (),
        {"TNL_OUTBOX_DEADLINE_HOURS": "0"},
        None,
        r"TNL_OUTBOX_DEADLINE_HOURS: ",
        2,
        id="setting",
    ),
    pytest.param(
        (),
        {"TNL_DATABASE_URL": "postgresql+asyncpg://tnl:pa55word@127.0.0.1:9/tnl"},
        None,
        r"^tnl-bot: run: TNL_DATABASE_URL: cannot connect to postgresql\+asyncpg://tnl:\*\*\*@",
        2,
        id="database-refused",
    ),
    pytest.param(
        (),
        {"TNL_DATA_DIR": os.devnull},
        None,
        r"^tnl-bot: run: TNL_DATA_DIR: ",
        2,
        id="data-dir-file",
    ),
    pytest.param(
        (),
        {},
        "accounts:\n  main:\n    bogus: 1\n",
        r"accounts\.yaml:3: ",
        1,
        id="accounts-file",
    ),
    pytest.param(
        (),
        {},
        "accounts:\n  partenaire:\n    url: http://127.0.0.1:9\n    token_env: PARTNER_TOKEN\n",
        r"PARTNER_TOKEN",
        1,
        id="account-token-variable",
    ),
    pytest.param(
        ("--corpus", "broken"),
        {},
        None,
        rf"{re.escape(BROKEN_THEME)}:\d+: ",
        1,
        id="corpus-option",
    ),
]


@pytest.mark.parametrize(("args", "extra", "accounts", "expected", "code"), MISCONFIGURATIONS)
async def test_run_refuses_a_bad_configuration_in_one_clear_line(
    tmp_path: Path,
    *,
    args: tuple[str, ...],
    extra: dict[str, str],
    accounts: str | None,
    expected: str,
    code: int,
) -> None:
    """Before anything starts: exit 2 naming the setting, or 1 with the `file:line:` at fault;
    never a traceback.
    `--corpus` is offered by `run --help`, so it must be the corpus the bot loads."""
    prepare(tmp_path, dt.datetime.now(dt.UTC))
    shutil.copytree(tmp_path / "corpus", tmp_path / "broken")
    break_theme(tmp_path / "broken" / BROKEN_THEME)
    env = {**files_environment(tmp_path), **extra}
    if accounts is not None:
        (tmp_path / "accounts.yaml").write_text(accounts, encoding="utf-8")
        env["TNL_MASTODON_ACCOUNTS"] = str(tmp_path / "accounts.yaml")
    output = tmp_path / "tnl-bot.log"
    with output.open("wb") as sink:
        process = await asyncio.create_subprocess_exec(
            str(TNL_BOT), "run", *args, env=env, cwd=tmp_path, stdout=sink, stderr=sink
        )
    try:
        await asyncio.wait_for(process.wait(), REFUSE_WITHIN)
    except TimeoutError:
        pass
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    log = output.read_text(encoding="utf-8", errors="replace")
    assert process.returncode != -signal.SIGKILL, f"tnl-bot run started anyway:\n{log}"
    assert process.returncode == code, log
    assert re.search(expected, log, re.MULTILINE), log
    assert "Traceback" not in log, log
    assert "pa55word" not in log
