"""The daily pipeline: fetch → select → enrich → render → write, for one or more dates."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from arxiv_digest.config import Config
from arxiv_digest.enrich import Enricher, EnrichStats, Gap, Progress
from arxiv_digest.fetch import ArxivSource
from arxiv_digest.llm import ChatModel, OpenAIChatModel
from arxiv_digest.models import Post, PostEntry, Window
from arxiv_digest.pdfsource import HttpPdfSource, PdfSource
from arxiv_digest.render import post_context, render_post, template_environment
from arxiv_digest.select import select
from arxiv_digest.store import Store
from arxiv_digest.window import window_for
from arxiv_digest.write import write_atomically


@dataclass(frozen=True)
class DayResult:
    day: date
    window: Window
    fetched: int
    shown: int
    complete: int
    post_path: Path | None
    """Where the post is; None when the window held no papers to show."""
    changed: bool
    gaps: tuple[Gap, ...]


@dataclass
class BuildResult:
    days: list[DayResult] = field(default_factory=list)
    stats: EnrichStats = field(default_factory=EnrichStats)
    arxiv_requests: int = 0
    elapsed_seconds: float = 0.0

    @property
    def incomplete(self) -> bool:
        return any(day.gaps for day in self.days)


@dataclass
class Services:
    """The pipeline's I/O, handed in so that tests and benchmarks can choose it."""

    source: ArxivSource
    model: ChatModel
    pdfs: PdfSource
    store: Store


def post_path(config: Config, day: date) -> Path:
    return config.output.posts_dir / f"{day.isoformat()}-arxiv.md"


async def build(
    days: Sequence[date], config: Config, services: Services, progress: Progress
) -> BuildResult:
    started = time.monotonic()
    zone = config.window.zone
    windows = [window_for(day, config.window.anchor_time, zone) for day in sorted(set(days))]
    # One query over the whole span, split into windows locally.
    span_start = min(window.start for window in windows)
    span_end = max(window.end for window in windows)
    progress(
        f"Fetching arXiv {', '.join(config.arxiv.categories)} submitted"
        f" {span_start:%Y-%m-%d %H:%M} — {span_end:%Y-%m-%d %H:%M} ({config.window.timezone})"
    )
    papers = await asyncio.to_thread(services.source.fetch_submitted, span_start, span_end)
    selections = [
        select(papers, window, config.arxiv.categories, config.filter) for window in windows
    ]
    for window, selection in zip(windows, selections, strict=True):
        progress(
            f"{window.day}: {len(selection.in_window)} papers in the window,"
            f" {len(selection.shown)} to show"
        )
    to_enrich = [paper for selection in selections for paper in selection.shown]
    templates = template_environment(config.output.templates_dir)
    enricher = Enricher(
        model=services.model,
        store=services.store,
        pdfs=services.pdfs,
        templates=templates,
        config=config,
        progress=progress,
    )
    enrichments = await enricher.enrich(to_enrich)

    result = BuildResult(stats=enricher.stats)
    for window, selection in zip(windows, selections, strict=True):
        entries = tuple(
            PostEntry(paper=paper, enrichment=enrichments[paper.arxiv_id])
            for paper in selection.shown
        )
        shown_ids = {paper.arxiv_id for paper in selection.shown}
        gaps = tuple(gap for gap in enricher.stats.gaps if gap.arxiv_id in shown_ids)
        path: Path | None = None
        changed = False
        if entries:
            post = Post(window=window, fetched_count=len(selection.in_window), entries=entries)
            text = render_post(
                templates, post_context(post, config.arxiv.categories, config.window.timezone)
            )
            path = post_path(config, window.day)
            changed = write_atomically(path, text)
        else:
            progress(f"{window.day}: no papers in the window; nothing written")
        result.days.append(
            DayResult(
                day=window.day,
                window=window,
                fetched=len(selection.in_window),
                shown=len(entries),
                complete=sum(
                    1
                    for entry in entries
                    if entry.enrichment.translation is not None
                    and entry.enrichment.analysis is not None
                ),
                post_path=path,
                changed=changed,
                gaps=gaps,
            )
        )
    result.arxiv_requests = services.source.requests_made
    result.elapsed_seconds = time.monotonic() - started
    return result


def build_site(
    days: Sequence[date], config: Config, api_key: str, progress: Progress
) -> BuildResult:
    """Build the posts of `days` with the real arXiv, PDF host and model of `config`."""

    async def run() -> BuildResult:
        model = OpenAIChatModel(config.llm, api_key)
        pdfs = HttpPdfSource(config.arxiv.pdf_url, config.pdf)
        store = Store.open(config.cache.path)
        try:
            services = Services(
                source=ArxivSource(config.arxiv), model=model, pdfs=pdfs, store=store
            )
            return await build(days, config, services, progress)
        finally:
            await model.close()
            await pdfs.close()
            store.close()

    return asyncio.run(run())
