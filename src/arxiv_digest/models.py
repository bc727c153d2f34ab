"""The typed data that flows through the pipeline: fetch → select → enrich → record → views."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime

_VERSION_SUFFIX = re.compile(r"v\d+$")
# New-style ids (2602.11910v1) and old-style ones (astro-ph/0601001v1, math.GT/0309136v2).
_ARXIV_ID = re.compile(r"^(?:\d{4}\.\d{4,5}|[a-z][a-z-]*(?:\.[A-Z]{2})?/\d{7})v\d+$")

STRICT_FIELDS = {"extra": "forbid"}
"""Pydantic's configuration for the types a day record holds: a key it does not know is an error."""


def is_arxiv_id(text: str) -> bool:
    """Whether `text` is an arXiv id with its version (it goes into URLs on public pages)."""
    return _ARXIV_ID.match(text) is not None


def base_id(arxiv_id: str) -> str:
    """The id without its version: the identity used for deduplication."""
    return _VERSION_SUFFIX.sub("", arxiv_id)


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
    """One arXiv paper as the API describes it.

    A paper imported from a post written by another tool knows only what the post
    showed: its abstract, first submission time and primary category are None there.
    """

    __pydantic_config__ = STRICT_FIELDS

    arxiv_id: str
    """The id with its version, e.g. ``2602.11910v1``."""
    title: str
    authors: tuple[str, ...]
    categories: tuple[str, ...]
    """In the order of the feed."""
    primary_category: str | None
    abstract: str | None
    published: datetime | None
    """When the first version was submitted (timezone-aware)."""
    updated: datetime | None = None
    """When this version was submitted."""
    comment: str | None = None
    journal_ref: str | None = None
    doi: str | None = None

    @property
    def base_id(self) -> str:
        """The id without its version: the identity used for deduplication."""
        return base_id(self.arxiv_id)

    @property
    def version(self) -> int:
        suffix = self.arxiv_id[len(self.base_id) + 1 :]
        return int(suffix) if suffix.isdigit() else 0


@dataclass(frozen=True)
class Answer:
    """An accepted model answer to one task for one paper, as published."""

    __pydantic_config__ = STRICT_FIELDS

    text: str
    model: str | None
    """The model that wrote it; None for an answer imported from an existing post."""
    prompt_sha256: str | None
    tokens_in: int = 0
    tokens_out: int = 0
    unconfirmed: tuple[str, ...] = ()
    """Figures its source does not confirm: those of the abstract a translation lacks (after
    every attempt), those of an analysis that the paper's text does not hold."""
    source: str | None = None
    """Where the paper's text it read came from: "html" (arXiv's HTML version) or "pdf";
    None for an answer on the abstract alone."""
    cut: tuple[str, ...] = ()
    """What of that text was left out to fit `llm.max_input_tokens` (section headings)."""


def figure_file(arxiv_id: str) -> str:
    """The name of a paper's figure, in the figures folder and on the site: its id without
    version (an old id's slash as `-`)."""
    return base_id(arxiv_id).replace("/", "-") + ".webp"


@dataclass(frozen=True)
class Figure:
    """A paper's figure as the site shows it: a WebP file of the figures folder, made from
    the first figure of its HTML version, with that figure's caption."""

    __pydantic_config__ = STRICT_FIELDS

    file: str
    """Its name in `output.figures_dir` (and under the site's /figures/)."""
    caption: str
    width: int
    height: int


@dataclass(frozen=True)
class Gap:
    """A task that did not succeed for a paper, and why."""

    arxiv_id: str
    task: str
    reason: str


@dataclass(frozen=True)
class Pending:
    """A task whose request waits in a provider's batch, to be collected by a later run."""

    arxiv_id: str
    task: str
    batch_id: str


@dataclass
class Usage:
    """What the model was asked, and what the cache or the record answered instead."""

    model_requests: int = 0
    cache_hits: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    batched_requests: int = 0
    """Of the requests, those answered by a batch (counted when collected)."""
    batched_tokens_in: int = 0
    batched_tokens_out: int = 0
    """Of the tokens, those billed at the batch price."""

    def add(self, other: Usage) -> None:
        self.model_requests += other.model_requests
        self.cache_hits += other.cache_hits
        self.tokens_in += other.tokens_in
        self.tokens_out += other.tokens_out
        self.batched_requests += other.batched_requests
        self.batched_tokens_in += other.batched_tokens_in
        self.batched_tokens_out += other.batched_tokens_out


@dataclass(frozen=True)
class Link:
    """A link the paper gives to its own material."""

    __pydantic_config__ = STRICT_FIELDS

    url: str
    kind: str
    """code, demo, data or page."""
