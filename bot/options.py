"""Command-line options shared by commands of several concepts (the CLI's own, `run`, `reload`).

Separate from bot.cli because the concepts that register commands (bot.service…) are imported
by bot.cli: taking the options from it would make each of them import the CLI back.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.config import Settings


def file_options() -> argparse.ArgumentParser:
    """--corpus and --campaign, for every command that reads the data files."""
    files = argparse.ArgumentParser(add_help=False)
    files.add_argument(
        "--corpus", type=Path, metavar="DIR", help="FAQ corpus directory (env TNL_CORPUS_DIR)"
    )
    files.add_argument(
        "--campaign", type=Path, metavar="FILE", help="campaign calendar (env TNL_CAMPAIGN)"
    )
    return files


def settings_of(args: argparse.Namespace) -> Settings:
    """The command's one settings object: built on first use (pydantic-settings costs a one-shot
    `tnl-bot ask` ~90 ms it need not pay), from the environment, `.env` and the command line's
    --corpus/--campaign, then kept on `args` for every later use in the same command.

    Raises ConfigurationError (`TNL_VARIABLE: what is wrong`); `bot.cli.main` reports it."""
    cached = getattr(args, "settings", None)
    if cached is None:
        from bot.config import load_settings

        cached = load_settings(
            corpus_dir=getattr(args, "corpus", None), campaign=getattr(args, "campaign", None)
        )
        args.settings = cached
    settings: Settings = cached
    return settings
