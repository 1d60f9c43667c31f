"""Targets that need no platform: `console` (prints) and `jsonl` (appends to a file)."""

from bot.targets.console import ConsoleTarget
from bot.targets.jsonl import JsonlTarget

__all__ = ["ConsoleTarget", "JsonlTarget"]
