"""`tnl-bot` command line. Heavy modules are imported inside each command: `ask` must start fast."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from bot.datafile import DataFileError, Problem
from bot.options import file_options, settings_of

if TYPE_CHECKING:
    from bot.clock import Clock
    from bot.config import Settings
    from bot.faq.corpus import Corpus
    from bot.faq.engine import FaqEngine
    from scheduler.campaign import Campaign


# The commands that open the store: their data directory is checked before they start.
STORE_COMMANDS = frozenset({"chat", "outbox", "run", "unanswered"})


def _moment(text: str) -> dt.datetime:
    from bot.clock import parse_moment

    try:
        return parse_moment(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO-8601 date or date-time: {text!r}") from None


def _data_options() -> argparse.ArgumentParser:
    """The file options plus --now, for the commands that answer or plan as of a moment."""
    common = argparse.ArgumentParser(add_help=False, parents=[file_options()])
    common.add_argument(
        "--now",
        type=_moment,
        metavar="ISO-8601",
        help="answer as of this moment (Europe/Paris if no offset)",
    )
    return common


def _configured() -> bool:
    """Whether the environment or a `.env` file may override the settings' defaults."""
    return Path(".env").exists() or any(name.startswith("TNL_") for name in os.environ)


def _paths(args: argparse.Namespace) -> tuple[Path, Path]:
    """Corpus and calendar: command-line options, else the settings.

    Importing pydantic-settings costs a one-shot `tnl-bot ask` about 90 ms; when nothing can
    override the defaults, they are taken from the same functions the settings use.
    """
    if args.corpus is not None and args.campaign is not None:
        return args.corpus, args.campaign
    if not _configured():
        from bot.faq.corpus import default_corpus_dir
        from scheduler.campaign import default_campaign_file

        return args.corpus or default_corpus_dir(), args.campaign or default_campaign_file()
    settings = settings_of(args)
    return settings.corpus_dir, settings.campaign


def _now(args: argparse.Namespace) -> dt.datetime:
    return args.now if args.now is not None else dt.datetime.now(dt.UTC)


def _report(error: DataFileError, what: str) -> int:
    for problem in error.problems:
        print(problem, file=sys.stderr)
    print(f"tnl-bot: {what}: {len(error.problems)} error(s), see above", file=sys.stderr)
    return 1


def _engine(args: argparse.Namespace) -> FaqEngine:
    from bot.faq.engine import FaqEngine

    return FaqEngine.from_files(*_paths(args))


def _stdin_lines() -> Iterator[str]:
    """One question per input line; invalid UTF-8 is replaced, never fatal."""
    for raw in sys.stdin.buffer:
        yield raw.rstrip(b"\n").rstrip(b"\r").decode("utf-8", errors="replace")


def cmd_ask(args: argparse.Namespace, out: TextIO) -> int:
    try:
        engine = _engine(args)
    except DataFileError as error:
        return _report(error, "invalid corpus or calendar, cannot answer")
    now = _now(args)
    questions: Iterator[str] | list[str] = (
        _stdin_lines() if args.question == ["-"] else [" ".join(args.question)]
    )
    for question in questions:
        answer = engine.answer(question, now)
        if args.json:
            out.write(json.dumps(answer.as_json(), ensure_ascii=False) + "\n")
        else:
            out.write(answer.text + "\n\n")
        out.flush()
    return 0


def cmd_chat(args: argparse.Namespace, out: TextIO) -> int:
    import asyncio

    from bot.clock import FixedClock, SystemClock

    try:
        engine = _engine(args)
    except DataFileError as error:
        return _report(error, "invalid corpus or calendar, not starting")
    clock = FixedClock(args.now) if args.now is not None else SystemClock()
    chat = _organiser_chat if args.organisateur else _chat
    return asyncio.run(chat(settings_of(args), engine, clock, out))


async def _chat(settings: Settings, engine: FaqEngine, clock: Clock, out: TextIO) -> int:
    """The console conversation, through the service every platform uses (and its store, so
    that what the console is not answered shows in `tnl-bot unanswered` too)."""
    from rich.console import Console

    from bot.connectors.console import ConsoleChat
    from bot.conversation import ConversationService
    from bot.conversation.flood import FloodGuard
    from bot.store.store import Store

    store = await Store.open(settings.store_url())
    try:
        flood = FloodGuard(clock, settings.flood_messages, settings.flood_pause)
        service = ConversationService(engine, store, clock, flood=flood)
        return await ConsoleChat(service, Console(file=out, highlight=False)).run()
    finally:
        await store.close()


async def _organiser_chat(settings: Settings, engine: FaqEngine, clock: Clock, out: TextIO) -> int:
    """The console as an organiser's desk: /diffuser, /laureats… drafted and confirmed here,
    delivered by the running bot."""
    from rich.console import Console

    from bot.connectors.console import ConsoleChat
    from bot.runtime.desk import desk

    async with desk(settings, engine, clock, os.environ) as opened:
        console = Console(file=out, highlight=False)
        return await ConsoleChat(opened.service, console, user=opened.identity.user_id).run()


def cmd_check(args: argparse.Namespace, out: TextIO) -> int:
    from bot.faq.check import check_phrasings
    from bot.faq.corpus import load_corpus
    from bot.faq.engine import FaqEngine
    from scheduler.campaign import load_campaign
    from scheduler.templates import check_plan

    settings_of(args)  # the configuration first: a bad TNL_ variable is reported, exit 2
    corpus_dir, campaign_file = _paths(args)
    problems: list[Problem] = []
    corpus: Corpus | None = None
    campaign: Campaign | None = None
    try:
        corpus = load_corpus(corpus_dir)
    except DataFileError as error:
        problems.extend(error.problems)
    try:
        campaign = load_campaign(campaign_file)
    except DataFileError as error:
        problems.extend(error.problems)
    problems.extend(check_plan(campaign_file, args.templates))
    if corpus is not None and campaign is not None:
        report = check_phrasings(FaqEngine(corpus, campaign))
        problems.extend(report.errors)
        if args.verbose:
            for warning in report.ambiguities:
                out.write(f"{warning} (warning)\n")
    if problems or corpus is None or campaign is None:
        return _report(DataFileError(problems), "check failed")
    themes = {origin.theme for origin in corpus.origins.values()}
    out.write(
        f"OK: {len(corpus.entries)} entries in {len(themes)} themes, "
        f"{len(corpus.synonyms.phrases)} synonyms, {len(campaign.editions)} editions\n"
    )
    return 0


def cmd_eval(args: argparse.Namespace, out: TextIO) -> int:
    from bot.faq.evaluate import evaluate, load_cases
    from bot.faq.report import print_json, print_report

    try:
        if args.file.suffix == ".json":  # a benchmark: its own corpus and queries
            from bot.faq.benchmark import load_benchmark
            from bot.faq.engine import FaqEngine
            from scheduler.campaign import load_campaign

            corpus, cases = load_benchmark(args.file)
            engine = FaqEngine(corpus, load_campaign(_paths(args)[1]))
        else:
            engine = _engine(args)
            cases = load_cases(args.file, {e.id for e in engine.corpus.entries})
    except DataFileError as error:
        return _report(error, "cannot evaluate")
    report = evaluate(engine, cases, _now(args))
    (print_json if args.json else print_report)(report, out)
    below = (args.min_accuracy is not None and report.accuracy < args.min_accuracy) or (
        args.min_abstention is not None and report.abstention < args.min_abstention
    )
    return 1 if below else 0


def build_parser() -> argparse.ArgumentParser:
    common = _data_options()
    parser = argparse.ArgumentParser(
        prog="tnl-bot", description="Bot of the Territoire Numérique Libre label."
    )
    parser.add_argument("--version", action=_Version)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    ask = commands.add_parser(
        "ask", parents=[common], help="answer one question (or '-' for one per stdin line)"
    )
    ask.add_argument("question", nargs="+", help="the question, or - to read one question per line")
    ask.add_argument("--json", action="store_true", help="one JSON object per question")
    ask.set_defaults(run=cmd_ask)

    chat = commands.add_parser("chat", parents=[common], help="talk with the bot in this terminal")
    chat.add_argument(
        "--organisateur",
        action="store_true",
        help="with the organisers' commands (/diffuser, /laureats…): the shell's user is one",
    )
    chat.set_defaults(run=cmd_chat)

    check = commands.add_parser(
        "check", parents=[common], help="validate the corpus, synonyms, calendar and templates"
    )
    check.add_argument(
        "-v", "--verbose", action="store_true", help="also list ambiguous alternatives"
    )
    check.add_argument("--templates", type=Path, metavar="FILE", help="announcement templates")
    check.set_defaults(run=cmd_check)

    evaluation = commands.add_parser(
        "eval", parents=[common], help="accuracy and abstention on a question set"
    )
    evaluation.add_argument(
        "file",
        type=Path,
        help="YAML file: questions: [{q: ..., expected: id|null}], or a benchmark .json",
    )
    evaluation.add_argument("--json", action="store_true", help="metrics as one JSON object")
    evaluation.add_argument(
        "--min-accuracy", type=float, metavar="RATIO", help="exit 1 below this accuracy (0–1)"
    )
    evaluation.add_argument(
        "--min-abstention", type=float, metavar="RATIO", help="exit 1 below this abstention (0–1)"
    )
    evaluation.set_defaults(run=cmd_eval)

    # Each concept registers its own commands; these modules import nothing heavy at load.
    from bot.connectors.mastodon import register as register_mastodon
    from bot.outbox import cli as outbox_cli
    from bot.runtime import organise
    from bot.runtime.cli import register as register_service
    from bot.store import cli as store_cli
    from scheduler import cli as schedule_cli

    for register in (
        schedule_cli.register,
        outbox_cli.register,
        store_cli.register,
        register_service,
        organise.register,
        register_mastodon,
    ):
        register(commands, common)
    return parser


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    from bot.config import ConfigurationError

    args = build_parser().parse_args(argv)
    try:
        if args.command in STORE_COMMANDS:
            from bot.runtime.storeerrors import data_directory_problem

            problem = data_directory_problem(settings_of(args))
            if problem is not None:
                return _misconfigured(args.command, [problem])
        return int(args.run(args, out or sys.stdout))
    except ConfigurationError as error:  # one line per bad variable, never a traceback
        return _misconfigured(args.command, str(error).splitlines())
    except BrokenPipeError:  # `tnl-bot ask - | head` must not end with a traceback
        return 0
    except Exception as error:
        from bot.runtime.storeerrors import store_problem

        problem = store_problem(error, getattr(args, "settings", None))
        if problem is None:
            raise
        return _misconfigured(args.command, [problem])


def _misconfigured(command: str, lines: list[str]) -> int:
    for line in lines:
        print(f"tnl-bot: {command}: {line}", file=sys.stderr)
    return 2


class _Version(argparse.Action):
    """`--version`, read from the installed package's metadata only when asked (importing
    importlib.metadata would cost every `tnl-bot ask`)."""

    def __init__(self, option_strings: list[str], dest: str, **kwargs: object) -> None:
        super().__init__(option_strings, dest, nargs=0, help="print the version and exit")

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> None:
        from importlib.metadata import version

        print(f"tnl-bot {version('tnl-bot')}")
        parser.exit()
