"""FAQ engine figures (not a test): latency per question, throughput, cold start.

    python benchmarks/bench_faq.py [--synthetic 10000] [--runs 5]

* latency p50/p99 of `FaqEngine.answer` on the shipped corpus (dev + hold-out questions);
* the same on a synthetic corpus of N entries × 6 phrasings built from the corpus vocabulary;
* `tnl-bot check` (every phrasing against the others) on that synthetic corpus, in process and
  end to end (the corpus written as theme files: YAML, validation, index, checks, exit);
* batch throughput (questions per second, as `tnl-bot ask --json -` does);
* cold start: a one-shot `tnl-bot ask` against a bare `python -c pass`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml
from rich.console import Console
from rich.table import Table

from bot.faq.check import check_phrasings
from bot.faq.corpus import SYNONYMS_FILE, Corpus, Entry, default_corpus_dir, load_corpus
from bot.faq.engine import FaqEngine
from bot.faq.evaluate import load_cases
from bot.faq.normalise import words
from scheduler.campaign import default_campaign_file, load_campaign

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
NOW = dt.datetime(2026, 11, 24, 10, tzinfo=dt.UTC)


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def latencies_ms(engine: FaqEngine, questions: list[str], rounds: int) -> list[float]:
    samples = []
    for _ in range(rounds):
        for question in questions:
            start = time.perf_counter()
            engine.answer(question, NOW)
            samples.append((time.perf_counter() - start) * 1000)
    return samples


def synthetic_corpus(base: Corpus, size: int, rng: random.Random) -> Corpus:
    """Entries whose phrasings mix real corpus words, so the index sees realistic overlap."""
    vocabulary = sorted(
        {w for e in base.entries for p in e.phrasings for w in words(p) if len(w) > 3}
    )
    entries = []
    for index in range(size):
        topic = rng.sample(vocabulary, 4)
        phrasings = [" ".join(rng.sample(topic, 3) + rng.sample(vocabulary, 3)) for _ in range(6)]
        entries.append(
            Entry.model_construct(
                id=f"synthetic-{index}",
                question=phrasings[0],
                alternatives=phrasings[1:],
                keywords=topic[:2],
                answer="Réponse synthétique.",
                source="https://example.org",
                reviewed=dt.date(2026, 11, 24),
                dynamic=None,
                scope="in",
            )
        )
    return Corpus(tuple(entries), base.synonyms, {})


def write_corpus(corpus: Corpus, directory: Path, files: int = 10) -> None:
    """The corpus as organisers write it, theme files and the shipped synonyms, entries in the
    same order: its phrasings have the same embeddings cache as the corpus in memory."""
    shutil.copy(default_corpus_dir() / SYNONYMS_FILE, directory / SYNONYMS_FILE)
    size = -(-len(corpus.entries) // files)
    for number in range(files):
        chunk = corpus.entries[number * size : (number + 1) * size]
        entries = [e.model_dump(mode="json", exclude_defaults=True) for e in chunk]
        text = yaml.safe_dump(
            {"theme": f"Synthèse {number}", "entries": entries}, allow_unicode=True, sort_keys=False
        )
        (directory / f"synth{number:02d}.yaml").write_text(text, encoding="utf-8")
    load_corpus(directory)  # raises if the files do not load: `check` would stop there


def check_end_to_end_s(tnl_bot: str, corpus: Corpus, runs: int) -> float:
    """Median wall time of `tnl-bot check` on the corpus written out (warm embeddings cache)."""
    samples = []
    with tempfile.TemporaryDirectory() as folder:
        write_corpus(corpus, Path(folder))
        for _ in range(runs):
            start = time.perf_counter()
            done = subprocess.run(
                [tnl_bot, "check", "--corpus", folder], capture_output=True, check=False
            )
            samples.append(time.perf_counter() - start)
            if done.returncode not in (0, 1):  # 1: problems found, as expected at this size
                raise RuntimeError(done.stderr.decode())
    return statistics.median(samples)


def cold_start_ms(command: list[str], runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--synthetic", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    rng = random.Random(20261124)

    corpus = load_corpus(default_corpus_dir())
    campaign = load_campaign(default_campaign_file())
    questions = [
        c.q
        for name in ("devset.yaml", "holdout.yaml")
        for c in load_cases(DATA / name, set(), allow_unknown=True)
    ]
    shipped = FaqEngine(corpus, campaign)
    shipped_ms = latencies_ms(shipped, questions, rounds=5)

    start = time.perf_counter()
    big = FaqEngine(synthetic_corpus(corpus, args.synthetic, rng), campaign)
    build_s = time.perf_counter() - start
    big_questions = [rng.choice(big.corpus.entries).alternatives[0] for _ in range(200)] + questions
    big_ms = latencies_ms(big, big_questions, rounds=2)
    start = time.perf_counter()
    check_phrasings(big)
    check_s = time.perf_counter() - start

    batch = questions * 10
    start = time.perf_counter()
    for question in batch:
        shipped.answer(question, NOW)
    throughput = len(batch) / (time.perf_counter() - start)

    tnl_bot = str(Path(sys.executable).with_name("tnl-bot"))
    bare = cold_start_ms([sys.executable, "-c", "pass"], args.runs)
    ask = cold_start_ms([tnl_bot, "ask", "Qui peut candidater ?"], args.runs)
    check_cli_s = check_end_to_end_s(tnl_bot, big.corpus, min(args.runs, 3))

    table = Table(title="FAQ engine benchmark")
    for column in ("measure", "value", "target"):
        table.add_column(column, justify="right" if column != "measure" else "left")
    table.add_row(
        f"shipped corpus ({len(corpus.entries)} entries): p50",
        f"{percentile(shipped_ms, 0.5):.3f} ms",
        "",
    )
    table.add_row("shipped corpus: p99", f"{percentile(shipped_ms, 0.99):.3f} ms", "≤ 50 ms")
    table.add_row(
        f"synthetic corpus ({args.synthetic:,} entries × 6): build", f"{build_s:.2f} s", ""
    )
    table.add_row("synthetic corpus: p50", f"{percentile(big_ms, 0.5):.3f} ms", "")
    table.add_row("synthetic corpus: p99", f"{percentile(big_ms, 0.99):.3f} ms", "≤ 100 ms")
    table.add_row("synthetic corpus: check_phrasings (in process)", f"{check_s:.1f} s", "")
    table.add_row(
        "synthetic corpus: tnl-bot check end to end (median)", f"{check_cli_s:.1f} s", "≤ 10 s"
    )
    table.add_row("batch throughput (shipped corpus)", f"{throughput:,.0f} questions/s", "")
    table.add_row("cold start: python -c pass (median)", f"{bare:.0f} ms", "")
    table.add_row("cold start: tnl-bot ask (median)", f"{ask:.0f} ms", "")
    table.add_row("cold start overhead", f"{ask - bare:.0f} ms", "≤ 1,500 ms")
    Console().print(table)


if __name__ == "__main__":
    main()
