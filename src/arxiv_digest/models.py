"""The typed data that flows through the pipeline: fetch → select → enrich → render → write."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime

_VERSION_SUFFIX = re.compile(r"v\d+$")

TRANSLATION = "translation"
ANALYSIS = "analysis"
"""The two tasks the model does for each paper."""


@dataclass(frozen=True)
class Window:
    """The half-open submission window [start, end) of one day's post, in the site's zone."""

    day: date
    start: datetime
    end: datetime

    def contains(self, moment: datetime) -> bool:
        # Compare in UTC: aware datetimes sharing one tzinfo are compared by wall
        # time, which is wrong for the repeated hour of a DST change.
        return self.start.astimezone(UTC) <= moment.astimezone(UTC) < self.end.astimezone(UTC)


@dataclass(frozen=True)
class Paper:
    """One arXiv paper as the API describes it."""

    arxiv_id: str
    """The id with its version, e.g. ``2602.11910v1``."""
    title: str
    authors: tuple[str, ...]
    categories: tuple[str, ...]
    """In the order of the feed."""
    primary_category: str
    abstract: str
    published: datetime
    """When the first version was submitted (timezone-aware)."""

    @property
    def base_id(self) -> str:
        """The id without its version: the identity used for deduplication."""
        return _VERSION_SUFFIX.sub("", self.arxiv_id)


@dataclass(frozen=True)
class Enrichment:
    """What the model added to a paper; None where that task has not succeeded (yet)."""

    translation: str | None = None
    analysis: str | None = None


@dataclass(frozen=True)
class Gap:
    """A task that did not succeed for a paper, and why."""

    arxiv_id: str
    task: str
    reason: str


@dataclass
class Usage:
    """What the model was asked, and what the cache answered instead."""

    model_requests: int = 0
    cache_hits: int = 0
    tokens_in: int = 0
    tokens_out: int = 0

    def add(self, other: Usage) -> None:
        self.model_requests += other.model_requests
        self.cache_hits += other.cache_hits
        self.tokens_in += other.tokens_in
        self.tokens_out += other.tokens_out


@dataclass(frozen=True)
class PostEntry:
    paper: Paper
    enrichment: Enrichment


@dataclass(frozen=True)
class Post:
    """One day's digest, ready to render."""

    window: Window
    fetched_count: int
    """Papers first submitted in the window (deduplicated)."""
    entries: tuple[PostEntry, ...]
