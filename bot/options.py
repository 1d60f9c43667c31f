"""Command-line options shared by commands of several concepts (the CLI's own, `run`, `reload`).

Separate from bot.cli because the concepts that register commands (bot.service…) are imported
by bot.cli: taking the options from it would make each of them import the CLI back.
"""

from __future__ import annotations

import argparse
from pathlib import Path


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
