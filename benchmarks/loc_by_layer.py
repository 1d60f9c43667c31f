"""Lines of code per layer: how the weight of the code is spread across the layers.

Usage: python benchmarks/loc_by_layer.py [ROOT ...]   (default: this checkout)

Counts non-blank lines that are not only a comment, in the Python modules of `bot/` and
`scheduler/`, and assigns each module to the first layer whose prefix it starts with (the same
layers as the import-linter contracts in pyproject.toml). Pass several roots (e.g. a worktree
of an older commit) to compare them side by side.
"""

from __future__ import annotations

import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

# Most specific prefixes first; a module goes to the first match.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("cli", ("bot.cli", "bot.__main__", "bot.outbox.cli", "bot.store.cli", "scheduler.cli")),
    ("runtime", ("bot.runtime", "bot.service", "bot.assembly")),
    ("connectors", ("bot.connectors", "bot.targets")),
    ("application", ("bot.broadcasts", "bot.conversation", "bot.core", "scheduler.runner")),
    ("outbox", ("bot.outbox",)),
    ("store", ("bot.store",)),
    ("domain", ("bot", "scheduler")),
)


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def layer_of(module: str) -> str:
    for layer, prefixes in LAYERS:
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return layer
    return "other"


def code_lines(path: Path) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return sum(1 for line in lines if line.strip() and not line.strip().startswith("#"))


def count(root: Path) -> dict[str, tuple[int, int]]:
    """layer → (modules, lines of code)."""
    totals: dict[str, tuple[int, int]] = {}
    for package in ("bot", "scheduler"):
        for path in sorted((root / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            layer = layer_of(module_name(root, path))
            modules, lines = totals.get(layer, (0, 0))
            totals[layer] = (modules + 1, lines + code_lines(path))
    return totals


def main(argv: list[str]) -> int:
    roots = [Path(a) for a in argv] or [Path(__file__).resolve().parent.parent]
    results = [count(root) for root in roots]
    table = Table(title="Lines of code per layer (modules / lines)")
    table.add_column("layer")
    for root in roots:
        table.add_column(root.name, justify="right")
    for layer in [name for name, _ in LAYERS] + ["other"]:
        if all(layer not in result for result in results):
            continue
        cells = [f"{r.get(layer, (0, 0))[0]} / {r.get(layer, (0, 0))[1]}" for r in results]
        table.add_row(layer, *cells)
    totals = [f"{sum(m for m, _ in r.values())} / {sum(n for _, n in r.values())}" for r in results]
    table.add_row("total", *totals)
    Console().print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
