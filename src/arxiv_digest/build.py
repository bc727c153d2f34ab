"""The daily pipeline: fetch → select → enrich → record → post, for one or more dates;
and the posts rendered again from their records alone.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import jinja2

from arxiv_digest.answers.cache import Store
from arxiv_digest.answers.enrich import (
    Enricher,
    Estimate,
    Need,
    Outcome,
    Progress,
    Tracker,
    needs_of,
)
from arxiv_digest.answers.executor import Executor
from arxiv_digest.answers.figures import FigureStore
from arxiv_digest.answers.links import find_links
from arxiv_digest.answers.tasks import (
    TASKS,
    AnswerRules,
    Task,
    enabled_tasks,
    in_task_order,
    prompt_values,
)
from arxiv_digest.audit import Audit, audit, missing_from
from arxiv_digest.config import Config
from arxiv_digest.errors import BadInputError, FetchError
from arxiv_digest.models import Answer, Gap, Link, Paper, Pending, Window
from arxiv_digest.record import (
    SCHEMA,
    DayRecord,
    NotShown,
    Records,
    RecordWindow,
    ShownPaper,
    read_record,
    record_path,
    record_paths,
)
from arxiv_digest.report import DayReport, RunReport, plural
from arxiv_digest.select import Selection, select
from arxiv_digest.sources.announce import Announcement, is_settled
from arxiv_digest.templating import BYTECODE_DIR, template_environment
from arxiv_digest.views import jekyll
from arxiv_digest.views.day import ViewSettings, day_view
from arxiv_digest.views.post import post_context, render_post
from arxiv_digest.views.ranking import Ranker, ranker_for
from arxiv_digest.window import day_of, settled_by_age, window_for
from arxiv_digest.write import check_writable, write_atomically

if TYPE_CHECKING:  # the real sources import the arXiv client and httpx2, which take time
    from arxiv_digest.answers.client import OpenAIChatModel
    from arxiv_digest.answers.pdfsource import TextSource
    from arxiv_digest.sources.arxiv import PaperSource


class AnnouncementSource(Protocol):
    """Where today's listing comes from (arXiv's RSS feed)."""

    @property
    def requests_made(self) -> int: ...

    def latest(self) -> Announcement: ...


@dataclass
class Services:
    """The pipeline's I/O, handed in so that tests and benchmarks can choose it."""

    source: PaperSource
    executor: Executor
    texts: TextSource
    store: Store
    announcements: AnnouncementSource | None = None
    """None: no listing is read, and no window is settled."""
    records: Records | None = None
    """The run's reader of the day records (None: one of `output.records_dir`)."""


@dataclass(frozen=True)
class RunPlan:
    """What a build is about to ask of the model, shown before it spends anything."""

    days: int
    papers: int
    """Papers with at least one answer to ask for."""
    estimate: Estimate
    max_requests: int | None
    """The cap the run was given (`--max-requests`), if any."""

    @property
    def requests(self) -> int:
        """The requests the run will make (the cap, when the plan is over it)."""
        if self.max_requests is None:
            return self.estimate.requests
        return min(self.estimate.requests, self.max_requests)


Confirm = Callable[[RunPlan], bool]


@dataclass(frozen=True)
class RunOptions:
    """How a run is steered from outside: who approves a large plan, a cap on its requests,
    and who follows its progress."""

    confirm: Confirm | None = None
    max_requests: int | None = None
    tracker: Tracker | None = None
    now: datetime | None = None
    """The run's clock, which settles windows older than arXiv's longest delay (None:
    windows settle by arXiv's listing alone)."""
    batch_wait_seconds: float = 0.0
    """In batch mode, how long the run waits for unfinished batches (`--wait`)."""


@dataclass(frozen=True)
class DayPlan:
    """One day of a build, settled before any model request: its window, its record as the
    run found it, and what it shows."""

    window: Window
    previous: DayRecord | None
    selection: Selection

    @property
    def day(self) -> date:
        return self.window.day


@dataclass(frozen=True)
class BuiltDay:
    """What the build of a day wrote."""

    plan: DayPlan
    record: DayRecord
    post_path: Path | None
    """None for a day that shows nothing, which has no post."""
    post_changed: bool


async def build(
    days: Sequence[date],
    config: Config,
    services: Services,
    progress: Progress,
    options: RunOptions = RunOptions(),
) -> RunReport:
    """Build the record and post of every day in `days`, with one arXiv query over their span.

    Today's listing is read first: it settles the windows it covers, and its papers that the
    query missed are looked up by id and join their days (the audit).

    A day's record is what it has shown: every paper in it is kept, in the version
    shown, with its recorded answers, so refreshing a day only adds papers that
    were announced late and asks only for answers it still lacks.

    Before any model request, a plan over `llm.confirm_above_requests` requests is put
    to `options.confirm`; a refusal stops the run with nothing asked and nothing written.
    With `options.max_requests`, the answers beyond it are not asked for and are left as gaps.
    """
    started = time.monotonic()
    check_writable(config.output.records_dir, "output.records_dir")
    check_writable(config.output.posts_dir, "output.posts_dir")
    records = services.records or Records(config.output.records_dir)
    windows = {day: _window(config, day) for day in sorted(set(days))}
    for day in windows:  # a broken record stops the run before any request
        _previous_record(config, records, day)
    # Today's listing is read while the papers are fetched: a slow feed delays nothing.
    announcement, papers = await asyncio.gather(
        asyncio.to_thread(_latest_announcement, services, progress),
        _fetch(windows.values(), config, services.source, progress),
    )
    findings = await asyncio.to_thread(
        _audit, announcement, papers, set(windows), config, services.source, records, progress
    )
    for day, late in (findings.late if findings else {}).items():
        joins = "joins" if len(late) == 1 else "join"
        progress(f"{day}: {plural(len(late), 'paper')} announced late {joins} the day")
        windows.setdefault(day, _window(config, day))
        papers += late
    plans = [_plan(window, papers, config, records) for _, window in sorted(windows.items())]
    for plan in plans:
        progress(
            f"{plan.day}: {plural(plan.selection.in_window, 'paper')} in the window,"
            f" {len(plan.selection.shown)} to show ({len(plan.selection.new)} new)"
        )

    templates = post_templates(config)
    tasks = enabled_tasks(config)
    enricher = Enricher(
        executor=services.executor,
        store=services.store,
        texts=services.texts,
        templates=templates,
        settings=config.llm,
        rules=AnswerRules.of(config),
        progress=progress,
        prompt_values=prompt_values(config),
    )
    if options.tracker is not None:
        enricher.tracker = options.tracker
    asked, held_back = _approved(_needs(plans, tasks), enricher, len(plans), config, options)
    enriched = await enricher.enrich(asked)
    outcomes = {
        **enriched.outcomes,
        **{
            (need.paper.arxiv_id, need.task.name): Gap(
                need.paper.arxiv_id,
                need.task.name,
                f"not asked: --max-requests {options.max_requests} was reached;"
                " run again to continue",
            )
            for need in held_back
        },
    }

    # Nothing newly settles while an announced paper is nowhere to be found: the next run asks again.
    settles = None if findings and findings.unreturned else announcement
    built = []
    for plan in plans:
        settled = (
            (plan.previous is not None and plan.previous.settled)
            or is_settled(plan.window.end, settles)
            or settled_by_age(plan.window.end, options.now)
        )
        # The records first: the posts are views of them, and never the other way round.
        records.write(assemble(plan, config, outcomes, enriched.links, settled))
    ranker = ranker_for(records, config.interests)
    for plan in plans:
        record = records.get(plan.day)
        assert record is not None  # written just now
        path, changed = write_post(record, config, templates, ranker)
        if path is None:
            progress(f"{plan.day}: no papers to show; only the record is written")
        built.append(BuiltDay(plan, record, path, changed))
    return RunReport(
        days=[
            DayReport.of(
                day.record,
                len(day.plan.selection.new),
                enricher.stats.usage(paper.arxiv_id for paper in day.plan.selection.shown),
                day.post_path,
                day.post_changed,
                tasks,
                services.source.served_by,
            )
            for day in built
        ],
        by_task={task.name: enricher.stats.usage(task=task.name) for task in tasks},
        arxiv_requests=services.source.requests_made
        + (services.announcements.requests_made if services.announcements else 0),
        pdf_downloads=services.texts.downloads,
        peak_concurrent_requests=services.executor.peak_in_flight,
        elapsed_seconds=time.monotonic() - started,
        announcement=announcement,
        audit=findings,
        filtered=enricher.stats.filtered,
    )


async def _fetch(
    windows: Collection[Window], config: Config, source: PaperSource, progress: Progress
) -> list[Paper]:
    """Every paper first submitted in the span of `windows`, with one query."""
    span_start = min(window.start for window in windows)
    span_end = max(window.end for window in windows)
    progress(
        f"Fetching arXiv {', '.join(config.arxiv.categories)} submitted"
        f" {span_start:%Y-%m-%d %H:%M} — {span_end:%Y-%m-%d %H:%M} ({config.window.timezone})"
    )
    return await asyncio.to_thread(source.fetch_submitted, span_start, span_end)


def _plan(window: Window, papers: Iterable[Paper], config: Config, records: Records) -> DayPlan:
    """What the day shows: what it showed before, and the papers of its window the filters
    let through."""
    previous = _previous_record(config, records, window.day)
    selection = select(
        papers,
        window,
        config.arxiv.categories,
        config.filter,
        shown_before=[shown.paper for shown in previous.papers] if previous else (),
        seen_before=[left.paper for left in previous.not_shown] if previous else (),
        counted_before=previous.in_window if previous else 0,
    )
    return DayPlan(window, previous, selection)


def _approved(
    needs: Sequence[Need],
    enricher: Enricher,
    days: int,
    config: Config,
    options: RunOptions,
) -> tuple[list[Need], list[Need]]:
    """The needs to ask for, and those held back by `options.max_requests`, once a plan over
    `llm.confirm_above_requests` is confirmed (a refusal stops the run here)."""
    estimate = enricher.estimate(needs)
    plan = RunPlan(
        days=days,
        papers=len(
            {need.paper.arxiv_id for need, asks in zip(needs, estimate.asks, strict=True) if asks}
        ),
        estimate=estimate,
        max_requests=options.max_requests,
    )
    over = plan.requests > config.llm.confirm_above_requests
    if over and options.confirm is not None and not options.confirm(plan):
        raise BadInputError("not confirmed: nothing was asked of the model, nothing written")
    return _within(needs, estimate.asks, options.max_requests)


def _window(config: Config, day: date) -> Window:
    return window_for(day, config.window.anchor_time, config.window.zone)


def _latest_announcement(services: Services, progress: Progress) -> Announcement | None:
    """Today's listing; None (and a line saying so) when it cannot be read, which only
    leaves tonight's windows unsettled."""
    if services.announcements is None:
        return None
    try:
        announcement = services.announcements.latest()
    except FetchError as error:
        progress(f"{error}; no window is settled tonight")
        return None
    if announcement.listing_day is None:
        progress("arXiv made no announcement today")
    else:
        progress(
            f"arXiv announced the listing of {announcement.listing_day:%a %d %b %Y}"
            f" ({plural(len(announcement.papers), 'paper')} in the feed)"
        )
    return announcement


def _audit(
    announcement: Announcement | None,
    papers: Sequence[Paper],
    built: Collection[date],
    config: Config,
    source: PaperSource,
    records: Records,
    progress: Progress,
) -> Audit | None:
    """Today's announced papers that the fetch missed, looked up by id and placed.

    Only a run that builds the listing's own day (the nightly one) audits it: a backfill of
    older days would look up a whole listing it has no windows for.
    """
    if announcement is None or announcement.listing_day is None:
        return None
    if max(built) < announcement.listing_day:
        progress("today's listing is not audited: the run does not build its day")
        return None
    missing = missing_from(announcement, config.arxiv.categories, papers)
    try:
        found = source.fetch_by_id([listed.base_id for listed in missing]) if missing else []
    except FetchError as error:  # the audit never costs the night its posts
        progress(f"{error}; the papers of today's listing that the fetch missed stay unplaced")
        found = []
    return audit(
        announcement,
        config.arxiv.categories,
        missing,
        found,
        built,
        day_of=lambda moment: day_of(moment, config.window.anchor_time, config.window.zone),
        record_of=lambda day: _previous_record(config, records, day),
        served_by=source.served_by,
    )


def _within(
    needs: Sequence[Need], asks: Sequence[bool], max_requests: int | None
) -> tuple[list[Need], list[Need]]:
    """The needs to fulfil, and those held back by `max_requests` (cached ones cost nothing)."""
    if max_requests is None:
        return list(needs), []
    asked, held_back = [], []
    requests = 0
    for need, makes_request in zip(needs, asks, strict=True):
        if makes_request and requests >= max_requests:
            held_back.append(need)
            continue
        requests += makes_request
        asked.append(need)
    return asked, held_back


def _previous_record(config: Config, records: Records, day: date) -> DayRecord | None:
    """The day's record; a post without one was written by another tool and is imported first."""
    record = records.get(day)
    post = jekyll.post_path(config.output.posts_dir, day)
    if record is None and post.exists():
        raise BadInputError(
            f"{post} has no record in {config.output.records_dir}; adopt it with"
            f" `digest import {post}` (or delete the post to build the day afresh)"
        )
    return record


def _needs(plans: Sequence[DayPlan], tasks: Sequence[Task]) -> list[Need]:
    """The answers that no record holds yet, each once, with the day that shows its paper."""
    recorded = {
        shown.paper.arxiv_id: shown.answers
        for plan in plans
        if plan.previous is not None
        for shown in plan.previous.papers
    }
    pending = {
        shown.paper.arxiv_id: shown.pending
        for plan in plans
        if plan.previous is not None
        for shown in plan.previous.papers
    }
    shown = {paper.arxiv_id: (paper, plan.day) for plan in plans for paper in plan.selection.shown}
    return needs_of(
        [(paper, recorded.get(arxiv_id, {}), day) for arxiv_id, (paper, day) in shown.items()],
        tasks,
        pending,
    )


def figure_store(config: Config) -> FigureStore | None:
    """The site's figures folder, when it takes figures (`output.figures`)."""
    return FigureStore(config.output.figures_dir) if config.output.figures else None


def assemble(
    plan: DayPlan,
    config: Config,
    outcomes: Mapping[tuple[str, str], Outcome],
    links_found: Mapping[str, tuple[Link, ...]],
    settled: bool = False,
) -> DayRecord:
    """The day's new record: what it shows with every answer, gap and link, and what it does not.

    A paper whose text was read this run has the links found in it (and in its abstract and
    comment); another keeps the links it has, and a new one gets those of its abstract and
    comment. A paper has the figure the figures folder holds for it, or else the one it had.
    A task waiting in a provider's batch names it, until a run settles it.
    """
    previous, selection, window = plan.previous, plan.selection, plan.window
    kept = {shown.paper.arxiv_id: shown for shown in previous.papers} if previous else {}
    figures = figure_store(config)
    papers = []
    for paper in selection.shown:
        before = kept.get(paper.arxiv_id)
        answers = dict(before.answers) if before else {}
        gaps = {}
        pending = dict(before.pending) if before else {}
        for task in TASKS:
            outcome = outcomes.get((paper.arxiv_id, task.name))
            if task.name in answers or outcome is None:
                continue
            pending.pop(task.name, None)
            if isinstance(outcome, Answer):
                answers[task.name] = outcome
            elif isinstance(outcome, Gap):
                gaps[task.name] = outcome.reason
            elif isinstance(outcome, Pending):
                pending[task.name] = outcome.batch_id
        links = links_found.get(paper.arxiv_id)
        if links is None:
            links = before.links if before else find_links(paper.abstract, paper.comment)
        figure = figures.get(paper.arxiv_id) if figures else None
        papers.append(
            ShownPaper(
                paper=paper,
                answers=in_task_order(answers),
                gaps=gaps,
                links=links,
                figure=figure or (before.figure if before else None),
                pending=in_task_order(
                    {task: batch_id for task, batch_id in pending.items() if task not in answers}
                ),
            )
        )
    return DayRecord(
        schema=SCHEMA,
        day=window.day,
        window=RecordWindow(timezone=config.window.timezone, start=window.start, end=window.end),
        in_window=selection.in_window,
        papers=tuple(papers),
        not_shown=tuple(NotShown(paper=paper, reason=why) for paper, why in selection.not_shown),
        settled=settled,
        imported_from=previous.imported_from if previous else None,
    )


def post_templates(config: Config) -> jinja2.Environment:
    """The templates of posts and prompts, compiled ones kept beside the answer cache (a
    rerun from the cache spends most of its work compiling them otherwise)."""
    return template_environment(
        config.output.templates_dir, config.cache.path.parent / BYTECODE_DIR
    )


def write_post(
    record: DayRecord,
    config: Config,
    templates: jinja2.Environment,
    ranker: Ranker | None = None,
) -> tuple[Path | None, bool]:
    """Render the day's post from its record (and, with `ranker`, each paper's relevance to
    the owner, for a template that asks): its path (None for a day that shows nothing,
    which has no post) and whether its bytes changed."""
    if not record.papers:
        return None, False
    settings = ViewSettings.of(config)
    relevance = ranker.relevance([shown.paper for shown in record.papers]) if ranker else None
    context = post_context(
        day_view(record, settings), settings, config.output.list_unshown, relevance
    )
    text = render_post(templates, context)
    path = jekyll.post_path(config.output.posts_dir, record.day)
    return path, write_atomically(path, text)


@dataclass(frozen=True)
class RenderResult:
    records: int
    written: list[Path]


def render_records(days: Sequence[date] | None, config: Config) -> RenderResult:
    """Render the posts of `days` (every record when None) again from their records.

    No network, no key, no model: after a template change, every post follows.
    Every record is read and checked before any post is written.
    """
    records_dir = config.output.records_dir
    if days is None:
        paths = [path for _, path in record_paths(records_dir)]
    else:
        paths = [record_path(records_dir, day) for day in sorted(set(days))]
    records = []
    for path in paths:
        record = read_record(path)
        if record is None:
            raise BadInputError(f"{path}: no such record; build or import that day first")
        records.append(record)
    check_writable(config.output.posts_dir, "output.posts_dir")
    templates = post_templates(config)
    ranker = ranker_for(Records(records_dir), config.interests)
    written = []
    for record in records:
        post, changed = write_post(record, config, templates, ranker)
        if post is not None and changed:
            written.append(post)
    return RenderResult(records=len(records), written=written)


def model_executor(
    model: OpenAIChatModel, config: Config, store: Store, progress: Progress, options: RunOptions
) -> Executor:
    """How the run asks `model`: each request at once, or (`llm.mode: batch`) as one batch
    of the provider's Batch API, retries and what the batch did not answer at once."""
    from arxiv_digest.answers.batch import BatchExecutor
    from arxiv_digest.answers.client import OpenAIBatches, request_body
    from arxiv_digest.answers.executor import PacedExecutor

    direct = PacedExecutor(model, config.llm)
    if config.llm.mode == "direct":
        return direct
    return BatchExecutor(
        api=OpenAIBatches(model),
        direct=direct,
        store=store,
        settings=config.llm,
        body=functools.partial(request_body, config.llm),
        progress=progress,
        wait_seconds=options.batch_wait_seconds,
    )


def build_live(
    days: Sequence[date],
    config: Config,
    records: Records,
    api_key: str,
    progress: Progress,
    options: RunOptions = RunOptions(),
) -> RunReport:
    """Build the days with the real arXiv, PDF host and model of `config`, reading and writing
    the day records through `records` (the reader the command chose its days with)."""
    # Imported here: the SDKs take most of a second, which `render` and `preview` need not pay.
    from arxiv_digest.answers.client import OpenAIChatModel
    from arxiv_digest.answers.pdfsource import HtmlThenPdfSource, HttpPdfSource
    from arxiv_digest.sources.arxiv import ArxivServices

    async def run() -> RunReport:
        model = OpenAIChatModel(config.llm, api_key)
        if any(records.get(day) is None for day in days):
            model.warm_up()  # a day built for the first time asks the model
        pdfs = HttpPdfSource(config.arxiv.pdf_url, config.pdf)
        texts: HtmlThenPdfSource | HttpPdfSource = (
            HtmlThenPdfSource(config.arxiv.html_url, pdfs, figure_store(config))
            if config.arxiv.html_url
            else pdfs
        )
        store = Store.open(config.cache.path)
        arxiv = ArxivServices(config.arxiv, progress)
        try:
            services = Services(
                source=arxiv.papers(),
                executor=model_executor(model, config, store, progress, options),
                texts=texts,
                store=store,
                announcements=arxiv.rss(),
                records=records,
            )
            return await build(days, config, services, progress, options)
        finally:
            await model.close()
            await texts.close()
            store.close()

    return asyncio.run(run())
