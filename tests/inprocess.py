"""In-process seams for scenario tests: the pipeline run as a library, with an arXiv source,
a model and a PDF text source that live in this process (no server, no child process).

`Bench` is a site directory with a config.yaml, like conftest's `Site`, but its builds
call `build.build` directly; the few end-to-end tests keep using `Site` and the servers.
"""

from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal

import yaml

from arxiv_digest.answers.batch import BatchExecutor, BatchResult, BatchState
from arxiv_digest.answers.cache import Store, StoredText
from arxiv_digest.answers.client import request_body
from arxiv_digest.answers.executor import Completion, Executor, PacedExecutor, TransientError
from arxiv_digest.answers.prompts import Prompt
from arxiv_digest.answers.tasks import AnswerError
from arxiv_digest.build import Confirm, RunOptions, Services, build, render_records
from arxiv_digest.config import Config, load_config
from arxiv_digest.errors import PdfError
from arxiv_digest.models import Paper
from arxiv_digest.record import DayRecord, Records, read_record, record_path
from arxiv_digest.report import RunReport
from arxiv_digest.sources.announce import Announcement, parse_rss
from arxiv_digest.views.importer import ImportResult, import_posts
from arxiv_digest.views.jekyll import post_path
from arxiv_digest.window import UNSETTLED_CEILING_DAYS, with_refresh
from tests import corpus
from tests.standins import (
    FeedPaper,
    listing_at,
    prompt_arxiv_id,
    prompt_task,
    rss_feed,
    triage_for,
)


def as_paper(feed: FeedPaper) -> Paper:
    """The paper `fetch` makes of a feed entry (whitespace folded as the API client does)."""
    return Paper(
        arxiv_id=feed.arxiv_id,
        title=" ".join(feed.title.split()),
        authors=tuple(feed.authors),
        categories=tuple(feed.categories),
        primary_category=feed.primary_category,
        abstract=" ".join(feed.abstract.split()),
        published=feed.published,
        updated=feed.published,
        comment=" ".join(feed.comment.split()) if feed.comment else None,
        journal_ref=feed.journal_ref,
        doi=feed.doi,
    )


@dataclass
class Source:
    """The arXiv API as a list: what is visible at `now` (announcement schedule), by range.

    Its `announcements` are the RSS feed of the same papers at the same moment, rendered
    and read back as the real feed is."""

    papers: list[FeedPaper]
    now: datetime | None = None
    holidays: frozenset[date] = frozenset()
    categories: list[str] = field(default_factory=lambda: ["cs.SD", "eess.AS"])
    requests_made: int = 0
    served_by: str = "stand-in arXiv"
    fetched: list[tuple[datetime, datetime]] = field(default_factory=list)

    def visible(self) -> list[FeedPaper]:
        now = self.now
        return [p for p in self.papers if now is None or p.announced(self.holidays) <= now]

    def fetch_submitted(self, start: datetime, end: datetime) -> list[Paper]:
        self.requests_made += 1
        self.fetched.append((start, end))
        return [as_paper(paper) for paper in self.visible() if start <= paper.published < end]

    def fetch_by_id(self, base_ids: Sequence[str]) -> list[Paper]:
        self.requests_made += 1
        return [as_paper(paper) for paper in self.visible() if paper.base_id in base_ids]

    def latest(self) -> Announcement:
        """Today's listing, as `RssSource.latest` reads it from the feed."""
        now = self.now or datetime.now(UTC)
        listing = listing_at(self.papers, now, self.categories, self.holidays)
        return parse_rss(rss_feed(listing, self.categories, now))


Answerer = Callable[[str, str], str | Exception]
"""(arxiv_id, task) → the answer's text, or an exception to raise for that request."""


@dataclass
class Model:
    """A chat model that answers from a table (or a function), recording every call."""

    answers: dict[tuple[str, str], str] = field(default_factory=corpus.model_answers)
    answerer: Answerer | None = None
    name: str = "standin-model"
    calls: list[tuple[str, str]] = field(default_factory=list)
    limits: list[int] = field(default_factory=list)
    """The output limit of each call."""

    async def complete(self, prompt: Prompt, max_output_tokens: int) -> Completion:
        key = (prompt_arxiv_id(prompt["user"]), prompt_task(prompt["user"]))
        self.calls.append(key)
        self.limits.append(max_output_tokens)
        default = triage_for(key[0]) if key[1] == "triage" else ""
        answer = self.answerer(*key) if self.answerer else self.answers.get(key, default)
        if isinstance(answer, Exception):
            raise answer
        # As a provider does: an answer over the output limit is cut there.
        cut = len(answer) > max_output_tokens
        return Completion(
            text=answer[:max_output_tokens],
            tokens_in=len(prompt["user"]) // 2,
            tokens_out=min(len(answer), max_output_tokens),
            finish_reason="length" if cut else "stop",
        )


@dataclass
class Texts:
    """Papers' PDF text by arXiv id; a missing one fails like a 404."""

    texts: dict[str, str]
    extractor: str = "inprocess-1"
    downloads: int = 0

    async def text(self, arxiv_id: str) -> StoredText:
        if arxiv_id not in self.texts:
            raise PdfError(arxiv_id, "PDF download failed: HTTP 404")
        self.downloads += 1
        return StoredText(text=self.texts[arxiv_id], page_count=2)


@dataclass
class Batches:
    """A provider's Batch API in this process, over `model`: a batch holds the JSONL it was
    sent; `finish` answers it (`expired` with only the first `answered`, or `failed`);
    `lose_next` makes the next submit fail after the batch is made."""

    model: Model
    batches: dict[str, BatchState] = field(default_factory=dict)
    sent: dict[str, bytes] = field(default_factory=dict)
    metadata: dict[str, str] = field(default_factory=dict)
    results_of: dict[str, dict[str, BatchResult]] = field(default_factory=dict)
    lose_next: bool = False
    endpoint: str = "/v1/chat/completions"
    finish_on_read: bool = False
    """Whether a batch is answered when its state is next read (a run that waits)."""

    async def submit(self, requests: bytes, submission: str) -> str:
        batch_id = f"batch_{len(self.batches) + 1}"
        self.batches[batch_id] = BatchState(batch_id, "in_progress")
        self.sent[batch_id] = requests
        self.metadata[batch_id] = submission
        if self.lose_next:
            self.lose_next = False
            raise TransientError("HTTP 500 while starting the batch")
        return batch_id

    async def find(self, submission: str) -> str | None:
        return next((b for b, sent in self.metadata.items() if sent == submission), None)

    async def state(self, batch_id: str) -> BatchState:
        if self.finish_on_read and not self.batches[batch_id].finished:
            await self.finish(batch_id)
        return self.batches[batch_id]

    async def results(self, state: BatchState) -> dict[str, BatchResult]:
        return self.results_of.get(state.batch_id, {})

    async def finish(
        self, batch_id: str = "batch_1", status: str = "completed", answered: int | None = None
    ) -> None:
        results: dict[str, BatchResult] = {}
        lines = [json.loads(line) for line in self.sent[batch_id].splitlines()]
        for index, line in enumerate(lines if status != "failed" else []):
            if answered is not None and index >= answered:
                results[line["custom_id"]] = "batch_expired"
                continue
            prompt = Prompt(
                system=line["body"]["messages"][0]["content"],
                user=line["body"]["messages"][1]["content"],
            )
            try:
                results[line["custom_id"]] = await self.model.complete(
                    prompt, line["body"]["max_tokens"]
                )
            except AnswerError as error:
                results[line["custom_id"]] = str(error)
        self.results_of[batch_id] = results
        self.batches[batch_id] = BatchState(batch_id, status)


def paper_text(paper: FeedPaper) -> str:
    return f"{paper.title}\nAbstract\nThe method of {paper.arxiv_id}.\n\fResults: it works."


@dataclass
class Bench:
    root: Path
    source: Source
    model: Model
    texts: Texts
    messages: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, root: Path, papers: Iterable[FeedPaper] = corpus.PAPERS) -> Bench:
        papers = list(papers)
        bench = cls(
            root=root,
            source=Source(papers),
            model=Model(),
            texts=Texts({paper.arxiv_id: paper_text(paper) for paper in papers}),
        )
        bench.configure()
        return bench

    def configure(self, **sections: dict[str, Any]) -> Config:
        # Triage off unless a test turns it on: most tests count two requests a paper.
        raw: dict[str, Any] = {"llm": {"max_retries": 1}, "triage": {"enabled": False}}
        for section, values in sections.items():
            raw.setdefault(section, {}).update(values)
        path = self.root / "config.yaml"
        path.write_text(yaml.safe_dump(raw), encoding="utf-8")
        return self.config

    @property
    def config(self) -> Config:
        return load_config(self.root / "config.yaml")

    def build(
        self,
        *days: str,
        refresh: int | Literal["unsettled"] = 0,
        confirm: Confirm | None = None,
        max_requests: int | None = None,
        announcements: bool = False,
        now: datetime | None = None,
        batches: Batches | None = None,
        wait_seconds: float = 0.0,
    ) -> RunReport:
        """Build `days` (with `refresh` windows before them, or the unfinished ones), reading
        today's listing when `announcements` is set, with `now` as the run's clock; with
        `batches`, in batch mode (waiting up to `wait_seconds`)."""
        config = self.config
        if batches is not None:
            config = config.model_copy(
                update={"llm": config.llm.model_copy(update={"mode": "batch"})}
            )
        named = [date.fromisoformat(day) for day in days]
        if refresh == "unsettled":
            chosen = sorted(
                {*named}.union(
                    *(
                        Records(config.output.records_dir).unfinished_days(
                            day, UNSETTLED_CEILING_DAYS
                        )
                        for day in named
                    )
                )
            )
        else:
            chosen = with_refresh(named, refresh)

        async def run() -> RunReport:
            store = Store.open(config.cache.path)
            try:
                executor: Executor = PacedExecutor(self.model, config.llm)
                if batches is not None:
                    executor = BatchExecutor(
                        batches, executor, store, config.llm,
                        functools.partial(request_body, config.llm), self.messages.append,
                        wait_seconds, sleep=lambda _: asyncio.sleep(0),
                    )  # fmt: skip
                services = Services(
                    source=self.source,
                    executor=executor,
                    texts=self.texts,
                    store=store,
                    announcements=self.source if announcements else None,
                )
                options = RunOptions(confirm=confirm, max_requests=max_requests, now=now)
                return await build(chosen, config, services, self.messages.append, options)
            finally:
                store.close()

        return asyncio.run(run())

    def render(self, *days: str) -> list[Path]:
        chosen = [date.fromisoformat(day) for day in days] or None
        return render_records(chosen, self.config).written

    def import_posts(self, *paths: Path) -> ImportResult:
        return import_posts(list(paths) or None, self.config)

    def record(self, day: str = corpus.DAY) -> DayRecord:
        found = read_record(self.record_path(day))
        assert found is not None, f"no record for {day}"
        return found

    def record_path(self, day: str = corpus.DAY) -> Path:
        return record_path(self.config.output.records_dir, date.fromisoformat(day))

    def post(self, day: str = corpus.DAY) -> Path:
        return post_path(self.config.output.posts_dir, date.fromisoformat(day))

    def shown(self, day: str = corpus.DAY) -> list[str]:
        return [shown.paper.arxiv_id for shown in self.record(day).papers]


def transient(message: str = "HTTP 503") -> TransientError:
    return TransientError(message)
