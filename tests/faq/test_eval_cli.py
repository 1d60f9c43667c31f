"""`tnl-bot eval` for CI: JSON metrics and an exit status that fails below a floor."""

from __future__ import annotations

import io
import json

from bot.cli import main
from tests.conftest import DATA

NOW = ["--now", "2026-11-24T10:00"]


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    return main([*argv], out), out.getvalue()


def test_json_metrics_and_floors_that_hold() -> None:
    code, out = run(
        "eval",
        *NOW,
        "--json",
        "--min-accuracy",
        "0.9",
        "--min-abstention",
        "0.9",
        str(DATA / "devset.yaml"),
    )
    metrics = json.loads(out)
    assert code == 0
    assert metrics["accuracy"] >= 0.9
    assert metrics["wrong"] <= 0.02
    assert {"suggested", "abstention", "failures"} <= set(metrics)


def test_a_floor_that_is_not_met_fails_the_command() -> None:
    code, _ = run("eval", *NOW, "--json", "--min-accuracy", "1.0", str(DATA / "devset.yaml"))
    assert code == 1
