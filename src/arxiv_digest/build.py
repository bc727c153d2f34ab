"""The daily pipeline: fetch → select → enrich → render → write, for one or more dates."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from arxiv_digest.config import Config
from arxiv_digest.enrich import Enricher, Progress
from arxiv_digest.errors import FetchError, WriteError
from arxiv_digest.fetch import ArxivSource
from arxiv_digest.llm import ChatModel, OpenAIChatModel
from arxiv_digest.models import Paper, Post, PostEntry, Window
from arxiv_digest.pdfsource import HttpPdfSource, PdfSource
from arxiv_digest.render import post_context, render_post, shown_ids, template_environment
from arxiv_digest.report import DayReport, RunReport
from arxiv_digest.select import Selection, select
from arxiv_digest.store import Store
from arxiv_digest.window import window_for
from arxiv_digest.write import check_writable, write_atomically


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
) -> RunReport:
    """Build the post of every day in `days`, with one arXiv query over their whole span.

    An existing post is the record of what a day has shown: every paper in it is
    kept, so refreshing a day only adds papers that were announced late.
    """
    started = time.monotonic()
    check_writable(config.output.posts_dir, "output.posts_dir")
    windows = [
        window_for(day, config.window.anchor_time, config.window.zone) for day in sorted(set(days))
    ]
    span_start = min(window.start for window in windows)
    span_end = max(window.end for window in windows)
    progress(
        f"Fetching arXiv {', '.join(config.arxiv.categories)} submitted"
        f" {span_start:%Y-%m-%d %H:%M} — {span_end:%Y-%m-%d %H:%M} ({config.window.timezone})"
    )
    papers = await asyncio.to_thread(services.source.fetch_submitted, span_start, span_end)
    services.store.save_papers(papers)
    shown_before = await _papers_shown_before(windows, config, services, papers)
    selections = [
        select(papers, window, config.arxiv.categories, config.filter, shown_before[window.day])
        for window in windows
    ]
    for window, selection in zip(windows, selections, strict=True):
        progress(
            f"{window.day}: {len(selection.in_window)} papers in the window,"
            f" {len(selection.shown)} to show ({len(selection.new)} new)"
        )

    templates = template_environment(config.output.templates_dir)
    enricher = Enricher(
        model=services.model,
        store=services.store,
        pdfs=services.pdfs,
        templates=templates,
        config=config,
        progress=progress,
    )
    enrichments = await enricher.enrich([p for s in selections for p in s.shown])

    report = RunReport()
    written: set[Path] = set()
    for window, selection in zip(windows, selections, strict=True):
        entries = tuple(
            PostEntry(paper=paper, enrichment=enrichments[paper.arxiv_id])
            for paper in selection.shown
        )
        path: Path | None = None
        changed = False
        if entries:
            post = Post(window=window, fetched_count=len(selection.in_window), entries=entries)
            text = render_post(
                templates, post_context(post, config.arxiv.categories, config.window.timezone)
            )
            path = post_path(config, window.day)
            if path in written:
                raise WriteError(f"{path}: two posts of this run would be written there")
            written.add(path)
            changed = write_atomically(path, text)
        else:
            progress(f"{window.day}: no papers in the window; nothing written")
        report.days.append(_day_report(window, selection, entries, enricher, path, changed))
    report.arxiv_requests = services.source.requests_made
    report.pdf_downloads = enricher.stats.pdf_downloads
    report.peak_concurrent_requests = enricher.peak_concurrent_requests
    report.elapsed_seconds = time.monotonic() - started
    return report


async def _papers_shown_before(
    windows: list[Window], config: Config, services: Services, fetched: list[Paper]
) -> dict[date, list[Paper]]:
    """For each day, the papers its existing post shows, as they were shown."""
    fetched_by_id = {paper.arxiv_id: paper for paper in fetched}
    shown: dict[date, list[str]] = {}
    for window in windows:
        try:
            shown[window.day] = shown_ids(post_path(config, window.day).read_text("utf-8"))
        except FileNotFoundError:
            shown[window.day] = []
        except (OSError, UnicodeDecodeError) as error:
            raise WriteError(f"{post_path(config, window.day)}: cannot be read ({error})") from None
    known: dict[str, Paper] = {}
    missing = []
    for arxiv_id in (i for ids in shown.values() for i in ids):
        paper = services.store.paper(arxiv_id) or fetched_by_id.get(arxiv_id)
        if paper is None:
            missing.append(arxiv_id)
        else:
            known[arxiv_id] = paper
    if missing:
        # Neither in the cache nor in this fetch: ask arXiv for exactly those versions.
        found = await asyncio.to_thread(services.source.fetch_ids, missing)
        services.store.save_papers(found)
        known.update((paper.arxiv_id, paper) for paper in found)
        lost = [arxiv_id for arxiv_id in missing if arxiv_id not in known]
        if lost:
            raise FetchError(
                f"papers shown in existing posts could not be found again: {', '.join(lost)}"
            )
    return {day: [known[arxiv_id] for arxiv_id in ids] for day, ids in shown.items()}


def _day_report(
    window: Window,
    selection: Selection,
    entries: tuple[PostEntry, ...],
    enricher: Enricher,
    path: Path | None,
    changed: bool,
) -> DayReport:
    ids = {paper.arxiv_id for paper in selection.shown}
    return DayReport(
        day=window.day,
        in_window=len(selection.in_window),
        new=len(selection.new),
        shown=len(entries),
        complete=sum(
            1
            for entry in entries
            if entry.enrichment.translation is not None and entry.enrichment.analysis is not None
        ),
        usage=enricher.stats.usage(ids),
        post_path=path,
        changed=changed,
        gaps=tuple(gap for gap in enricher.stats.gaps if gap.arxiv_id in ids),
    )


def build_site(days: Sequence[date], config: Config, api_key: str, progress: Progress) -> RunReport:
    """Build the posts of `days` with the real arXiv, PDF host and model of `config`."""

    async def run() -> RunReport:
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
