"""The command line, run in-process (fast) and once as a real subprocess."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main
from bot.faq.corpus import default_corpus_dir

NOW = ["--now", "2026-11-24T10:00"]


def run(
    args: list[str], stdin: bytes = b"", monkeypatch: pytest.MonkeyPatch | None = None
) -> tuple[int, str]:
    if monkeypatch is not None:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin)))
    out = io.StringIO()
    code = main(args, out=out)
    return code, out.getvalue()


def test_ask_prints_the_answer() -> None:
    code, out = run(["ask", *NOW, "qui", "peut", "candidater", "?"])
    assert code == 0
    assert "commune" in out.casefold()


def test_ask_json_has_the_documented_keys() -> None:
    code, out = run(["ask", "--json", *NOW, "Qui peut candidater au label ?"])
    assert code == 0
    answer = json.loads(out)
    assert set(answer) == {"matched", "answer", "entry", "score", "suggestions"}
    assert answer["matched"] is True
    assert answer["entry"] == "qui-peut-candidater"
    assert isinstance(answer["score"], float)
    assert answer["suggestions"] == []


def test_ask_json_stdin_writes_one_line_per_input_line(monkeypatch: pytest.MonkeyPatch) -> None:
    lines = [
        b"Qui peut candidater ?",
        b"",
        b"bonjour",
        b"\xff\xfe invalid utf-8 \xc3",
        b"Quelle est la recette de la tartiflette ?",
        b"a" * 20_000,
        b"\x00\x1b[2J",
        b"jusqu'a quand candidater\r",
    ]
    code, out = run(["ask", "--json", *NOW, "-"], b"\n".join(lines) + b"\n", monkeypatch)
    assert code == 0
    answers = [json.loads(line) for line in out.splitlines()]
    assert len(answers) == len(lines)
    assert [a["matched"] for a in answers] == [True, False, False, False, False, False, False, True]
    assert answers[0]["entry"] == "qui-peut-candidater"
    assert answers[7]["entry"] == "dates-campagne"


def test_ask_with_invalid_now_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["ask", "--now", "demain", "question"])
    assert caught.value.code == 2
    assert "not an ISO-8601 date" in capsys.readouterr().err


def test_check_passes_on_the_shipped_data() -> None:
    code, out = run(["check"])
    assert code == 0
    assert out.startswith("OK: ")


@pytest.fixture
def corpus_copy(tmp_path: Path) -> Path:
    target = tmp_path / "corpus"
    shutil.copytree(
        default_corpus_dir(), target, ignore=shutil.ignore_patterns("*.py", "__pycache__")
    )
    return target


def first_line_of(path: Path, needle: str) -> int:
    return next(
        i
        for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if needle in line
    )


def check_errors(corpus: Path, capsys: pytest.CaptureFixture[str]) -> list[str]:
    code, _ = run(["check", "--corpus", str(corpus)])
    assert code == 1
    return capsys.readouterr().err.splitlines()


def test_check_reports_yaml_syntax_errors(
    corpus_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = corpus_copy / "contact.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "  - id: [oops\n", encoding="utf-8")
    errors = check_errors(corpus_copy, capsys)
    assert any(e.startswith(f"{path}:") and "YAML syntax error" in e for e in errors)


def test_check_reports_missing_fields_and_duplicate_ids(
    corpus_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    duplicate = corpus_copy / "zz_duplicate.yaml"
    duplicate.write_text(
        "theme: Extra\n"
        "entries:\n"
        "  - id: contact\n"
        "    question: Une question inédite sur les tapisseries ?\n"
        "    alternatives: [tapisserie un, tapisserie deux, tapisserie trois, tapisserie quatre, tapisserie cinq]\n"
        "    keywords: [tapisserie]\n"
        "    answer: Une réponse.\n"
        "    source: https://example.org\n"
        "    reviewed: 2026-11-24\n",
        encoding="utf-8",
    )
    broken = corpus_copy / "zz_broken.yaml"
    broken.write_text(
        "theme: Extra\n"
        "entries:\n"
        "  - id: sans-reponse\n"
        "    question: Autre question ?\n"
        "    alternatives: [f six]\n"
        "    keywords: [essai]\n"
        "    answer: ''\n"
        "    source: pas une url\n"
        "    reviewed: 2026-11-24\n"
        "    colour: red\n",
        encoding="utf-8",
    )
    errors = check_errors(corpus_copy, capsys)
    first = first_line_of(corpus_copy / "contact.yaml", "id: contact")
    assert f"{duplicate}:3: duplicate id 'contact' (first at contact.yaml:{first})" in errors
    assert any(
        e.startswith(f"{broken}:5: entries.alternatives: List should have at least 5 items")
        for e in errors
    )
    assert any(
        e.startswith(f"{broken}:7: entries.answer: String should have at least 1 character")
        for e in errors
    )
    assert any(
        e.startswith(f"{broken}:8: entries.source: String should match pattern") for e in errors
    )
    assert f"{broken}:10: entries.colour: is not a known field" in errors


def test_check_reports_collisions(corpus_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = corpus_copy / "opendata.yaml"  # sorts after eligibilite.yaml, the owner of the question
    text = path.read_text(encoding="utf-8")
    marker = "    alternatives:\n"
    position = text.index(marker) + len(marker)
    line = text[:position].count("\n") + 1
    # Same words as the question of 'qui-peut-candidater', different case, accents and filler.
    stolen = "QUELS types de collectivites peuvent donc participer au label svp"
    path.write_text(text[:position] + f"      - {stolen}\n" + text[position:], encoding="utf-8")
    errors = check_errors(corpus_copy, capsys)
    message = "is also a phrasing of entry 'qui-peut-candidater'"
    assert any(e.startswith(f"{path}:{line}: ") and message in e for e in errors), errors


def test_bot_refuses_to_answer_with_an_invalid_corpus(
    corpus_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (corpus_copy / "contact.yaml").write_text("theme: Contact\nentries: []\n", encoding="utf-8")
    code, _ = run(["ask", "--corpus", str(corpus_copy), "bonjour"])
    assert code == 1
    err = capsys.readouterr().err
    assert "contact.yaml:2: entries: List should have at least 1 item" in err
    assert "cannot answer" in err


def test_eval_prints_metrics_and_failures(tmp_path: Path) -> None:
    cases = tmp_path / "cases.yaml"
    cases.write_text(
        'questions:\n  - q: "Qui peut candidater ?"\n    expected: qui-peut-candidater\n'
        '  - q: "Qui peut candidater ?"\n    expected: contact\n'
        '  - q: "recette de la tartiflette"\n    expected: null\n',
        encoding="utf-8",
    )
    code, out = run(["eval", *NOW, str(cases)])
    assert code == 0
    assert "50.0%" in out  # one of the two in-scope questions is right
    assert "100.0%" in out  # the out-of-scope one is not answered
    assert "1 failure(s)" in out


@pytest.mark.slow
def test_installed_command_answers_a_pipe(tmp_path: Path) -> None:
    """The real console script, as users run it: bytes in, one JSON line out per line."""
    command = Path(sys.executable).with_name("tnl-bot")
    result = subprocess.run(
        [str(command), "ask", "--json", "-"],
        input=b"qui peut candidater\n\xff\n\n",
        capture_output=True,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.decode("utf-8").splitlines()
    assert len(lines) == 3
    assert json.loads(lines[0])["entry"] == "qui-peut-candidater"


@pytest.mark.slow
def test_wheel_ships_corpus_and_calendar(tmp_path: Path) -> None:
    """`pip install .` (not editable) must work from any directory: data files are in the wheel."""
    root = Path(__file__).resolve().parents[2]
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "-q",
            "-w",
            str(tmp_path / "dist"),
            str(root),
        ],
        check=True,
        timeout=300,
        capture_output=True,
    )
    [wheel] = (tmp_path / "dist").glob("tnl_bot-*.whl")
    site = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "-q",
            "--target",
            str(site),
            str(wheel),
        ],
        check=True,
        timeout=300,
        capture_output=True,
    )
    assert (site / "faq_corpus" / "synonymes.yaml").is_file()
    assert (site / "scheduler" / "campaign.yaml").is_file()
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import bot, sys; print(bot.__file__); from bot.cli import main; sys.exit(main(['ask', '--json', 'qui peut candidater']))",
        ],
        cwd=tmp_path,
        env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    location, answer = result.stdout.decode("utf-8").splitlines()
    assert location.startswith(str(site))
    assert json.loads(answer)["entry"] == "qui-peut-candidater"


def test_environment_overrides_the_default_corpus(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TNL_CORPUS_DIR", str(tmp_path / "nowhere"))
    code, _ = run(["ask", "bonjour"])
    assert code == 1
    assert "corpus directory not found" in capsys.readouterr().err
