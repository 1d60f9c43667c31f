"""Shared fixtures: the shipped corpus and calendar, loaded once, and fixed moments."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bot.faq.corpus import Corpus, default_corpus_dir, load_corpus
from bot.faq.engine import FaqEngine
from bot.paris import PARIS
from scheduler.campaign import Campaign, default_campaign_file, load_campaign

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def corpus() -> Corpus:
    return load_corpus(default_corpus_dir())


@pytest.fixture(scope="session")
def campaign() -> Campaign:
    return load_campaign(default_campaign_file())


@pytest.fixture(scope="session")
def engine(corpus: Corpus, campaign: Campaign) -> FaqEngine:
    return FaqEngine(corpus, campaign)


@pytest.fixture
def now() -> dt.datetime:
    """The session's reference moment: after the 2025 edition, nothing announced since."""
    return dt.datetime(2026, 11, 24, 10, 0, tzinfo=PARIS)
