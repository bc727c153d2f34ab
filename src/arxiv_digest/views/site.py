"""`digest site`: the reader's site, built from the day records alone.

Each record becomes a day page and a page per paper, both from one view of the day and
with each paper's HTML rendered once for both; the home page, the archive by year, the
topic pages, the Atom feeds, the search page and the 404 page are made from what the day
pages say of themselves. Untrusted text takes the same road as in the posts (the
sanitizer's allowlist, sanitize.py) and is then rendered and sanitized as HTML
(safe_html.py). Pages load nothing from elsewhere and say so in their
Content-Security-Policy; the only scripts are the site's own (site.js: expand all, topic
filters, copy buttons; search.js), and every page serves without them.

Builds are incremental: a manifest in the output remembers each record's hash and
what the index pages need of its day, so an unchanged day is neither read nor
written again. Changed days are rendered in parallel, and nothing is written until
every record has been read: a broken record leaves the site as it was.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import urlsplit

import jinja2
from pydantic_core import from_json

from arxiv_digest import __version__
from arxiv_digest.config import Config, InterestsSettings
from arxiv_digest.errors import BadInputError, DigestError
from arxiv_digest.models import base_id, figure_file
from arxiv_digest.record import (
    DayRecord,
    Records,
    read_record,
    record_from_bytes,
    record_path,
    record_paths,
)
from arxiv_digest.templating import BYTECODE_DIR, template_environment
from arxiv_digest.views import sanitize, urls
from arxiv_digest.views.day import (
    DayStatus,
    DayView,
    PaperView,
    ViewSettings,
    day_view,
    weekday,
)
from arxiv_digest.views.jekyll import SiteIdentity, at_base_url, read_site_identity
from arxiv_digest.views.ranking import Ranker, Relevance, ranker_for, top_picks
from arxiv_digest.views.safe_html import render_block, render_inline, xml_safe
from arxiv_digest.window import SETTLED_AFTER
from arxiv_digest.write import stage_file, write_atomically

MANIFEST = ".digest-site.json"
ASSETS = ("site.css", "site.js", "search.js")
HOME_DAYS = 7
FEED_DAYS = 10
TOPIC_FEED_PAPERS = 30
TOPIC_PAGE_PAPERS = 30
# Below this many days to render, starting worker processes costs more than it saves.
_PARALLEL_FROM_DAYS = 24


@dataclass(frozen=True)
class SiteSettings:
    identity: SiteIdentity
    view: ViewSettings
    templates_dir: Path
    figures_dir: Path | None = None
    """The papers' figures (`output.figures_dir`); None: the site shows none."""
    interests: InterestsSettings = field(default_factory=InterestsSettings)
    """What the owner likes: the site ranks papers by it (`interests`)."""


class PaperSummary(NamedTuple):
    """What the home page and the topic pages show of a paper (a named tuple: a thousand
    days' worth are read from the manifest at every build)."""

    arxiv_id: str
    title: str
    """The English title as HTML (formulas as MathML)."""
    title_zh: str
    summary_zh: str
    topics: tuple[str, ...]
    score: int = -1
    """Its relevance to the owner, 0 to 100 (-1: the site ranks nothing)."""
    why: tuple[str, ...] = ()
    """The terms that raise its score most."""

    @property
    def url(self) -> str:
        return urls.paper_page(self.arxiv_id)

    @property
    def base_id(self) -> str:
        return base_id(self.arxiv_id)


@dataclass(frozen=True)
class DaySummary:
    """What the index pages need of a day, remembered in the manifest."""

    day: str
    sha256: str
    stat: tuple[int, int]
    """The record's size and modification time (ns) when it was read: unchanged, it is not
    read again."""
    in_window: int
    status: DayStatus
    pending: bool
    """Whether arXiv may still add papers to the window."""
    papers: tuple[PaperSummary, ...]
    neighbours: tuple[str, str]
    """The previous and next days the page links to ("" for none)."""
    article: str = ""
    """The day's article as HTML, kept for the newest days only: what the feed carries."""

    @property
    def url(self) -> str:
        return urls.day(date.fromisoformat(self.day))

    def to_json(self) -> list[Any]:
        """The summary as the manifest keeps it: its fields in order."""
        return [
            self.day, self.sha256, list(self.stat), self.in_window, self.status, self.pending,
            self.papers, self.neighbours, self.article,
        ]  # fmt: skip

    @classmethod
    def from_json(cls, fields: list[Any]) -> DaySummary:
        """A summary as `to_json` wrote it (a manifest that is not raises, and is ignored)."""
        day, sha256, (size, mtime), in_window, status, pending, papers, neighbours, article = fields
        previous, following = neighbours
        return cls(
            day, sha256, (size, mtime), in_window, status, pending,
            tuple(PaperSummary(*paper) for paper in papers), (previous, following), article,
        )  # fmt: skip


@dataclass
class SiteResult:
    days: int
    rendered: int
    """Day pages rendered this time (the others were unchanged)."""
    removed: int
    papers: int = 0
    """Paper pages the site has."""
    paper_pages_written: int = 0
    """Paper pages written this time (new or changed)."""
    index_pages: int = 0
    """Pages and feeds made from every day (home, archive, topics, feeds), written this time."""


def site_settings(
    config: Config, site_root: Path, base_url: str | None = None, now: datetime | None = None
) -> SiteSettings:
    """The site's settings: its identity from `_config.yml` in `site_root` (served at
    `base_url` when given), the rest from the configuration; `now` is the clock that settles
    old windows (None: the machine's)."""
    identity = read_site_identity(site_root / "_config.yml")
    return SiteSettings(
        identity=at_base_url(identity, base_url) if base_url else identity,
        view=ViewSettings.of(config, now or datetime.now(UTC)),
        templates_dir=config.output.templates_dir,
        figures_dir=config.output.figures_dir if config.output.figures else None,
        interests=config.interests,
    )


def build_site(records_dir: Path, output_dir: Path, settings: SiteSettings) -> SiteResult:
    """Render the records in `records_dir` into the static site in `output_dir`."""
    if not records_dir.is_dir():
        raise BadInputError(
            f"{records_dir}: no records; run `digest build` first (or set output.records_dir)"
        )
    templates = _environment(settings, output_dir)
    fingerprint = _fingerprint(templates, settings)
    ranker = ranker_for(Records(records_dir), settings.interests)
    previous, previous_indexes = _read_manifest(output_dir / MANIFEST, fingerprint)
    sources = record_paths(records_dir)
    days = [day.isoformat() for day, _ in sources]
    jobs: dict[str, _DayJob] = {}
    kept: dict[str, DaySummary] = {}
    feed_from = len(days) - FEED_DAYS
    for index, (day, path) in enumerate(sources):
        neighbours = (
            days[index - 1] if index else "",
            days[index + 1] if index + 1 < len(days) else "",
        )
        known = previous.get(day.isoformat())
        still = (
            _still(path, known)
            if known and known.neighbours == neighbours and not _aged(known, settings)
            else None
        )
        if still is not None:
            kept[still.day] = still
        else:
            jobs[day.isoformat()] = _DayJob(path, neighbours, in_feed=index >= feed_from)
    staged = _render_days(list(jobs.values()), output_dir, settings, ranker)
    summaries = {**kept, **{rendered.summary.day: rendered.summary for rendered in staged}}
    # A paper listed on two days has its page from the earlier; when that changes, the day
    # that now owns it writes it again.
    owners = _paper_owners(summaries.values())
    owned_before = _paper_owners(previous.values())
    again = {
        day
        for paper, day in owners.items()
        if owned_before.get(paper, day) != day and day not in jobs
    }
    if again:
        staged += _render_days(
            [_DayJob(record_path(records_dir, date.fromisoformat(day)), kept[day].neighbours,
                     in_feed=days.index(day) >= feed_from) for day in sorted(again)],
            output_dir, settings, ranker,
        )  # fmt: skip
        summaries.update({rendered.summary.day: rendered.summary for rendered in staged})
    ordered = [summaries[day] for day in reversed(days)]  # newest first
    removed = [summary for day, summary in previous.items() if day not in summaries]
    papers = len(owners)
    if not staged and not removed and previous and (output_dir / "index.html").is_file():
        return SiteResult(days=len(ordered), rendered=0, removed=0, papers=papers)
    ordered = _with_feed_articles(ordered, records_dir, settings, templates, ranker)

    paper_pages_written = 0
    for rendered in staged:
        if rendered.page is not None:
            rendered.page.replace(_page_path(output_dir, rendered.summary.url))
        for paper_id, url, staged_file in rendered.paper_files:
            if owners.get(paper_id) == rendered.summary.day:
                staged_file.replace(_page_path(output_dir, url))
                paper_pages_written += url.startswith(urls.PAPERS)
            else:
                staged_file.unlink()
    for summary in removed:
        _page_path(output_dir, summary.url).unlink(missing_ok=True)
        for paper in summary.papers:
            if paper.base_id not in owners:
                _page_path(output_dir, paper.url).unlink(missing_ok=True)
                _page_path(output_dir, urls.figure(figure_file(paper.arxiv_id))).unlink(
                    missing_ok=True
                )
    indexes = _write_indexes(ordered, output_dir, settings, templates)
    for url in set(previous_indexes) - set(indexes):
        (output_dir / urls.output_file(url)).unlink(missing_ok=True)
    manifest = {
        "fingerprint": fingerprint,
        "indexes": sorted(indexes),
        "days": [summary.to_json() for summary in ordered],
    }
    write_atomically(
        output_dir / MANIFEST, json.dumps(manifest, ensure_ascii=False) + "\n", durable=False
    )
    return SiteResult(
        days=len(ordered),
        rendered=len({rendered.summary.day for rendered in staged}),
        removed=len(removed),
        papers=papers,
        paper_pages_written=paper_pages_written,
        index_pages=sum(indexes.values()),
    )


def _paper_owners(summaries: Iterable[DaySummary]) -> dict[str, str]:
    """Each paper's (base id's) day: the earliest that lists it."""
    owners: dict[str, str] = {}
    for summary in sorted(summaries, key=lambda summary: summary.day, reverse=True):
        for paper in summary.papers:
            owners[paper.base_id] = summary.day
    return owners


def _aged(known: DaySummary, settings: SiteSettings) -> bool:
    """Whether a day last rendered as pending may have settled by age since (to be safe, a
    day early: rendering decides)."""
    now = settings.view.now
    return (
        known.pending
        and now is not None
        and date.fromisoformat(known.day) < now.date() - SETTLED_AFTER + timedelta(days=1)
    )


def _still(path: Path, known: DaySummary) -> DaySummary | None:
    """`known`, if the record at `path` is the one it summarises: the same size and time, or
    else the same bytes (a checkout gives every file a new time); None if it changed."""
    stat = _stat(path)
    if stat == known.stat:
        return known
    if hashlib.sha256(path.read_bytes()).hexdigest() == known.sha256:
        return replace(known, stat=stat)
    return None


def _stat(path: Path) -> tuple[int, int]:
    found = path.stat()
    return found.st_size, found.st_mtime_ns


def _page_path(output_dir: Path, url: str) -> Path:
    return output_dir / urls.output_file(url)


@dataclass(frozen=True)
class _DayJob:
    path: Path
    neighbours: tuple[str, str]
    in_feed: bool = False
    """Whether the day is among the feed's: its summary keeps its article."""


@dataclass(frozen=True)
class _StagedDay:
    summary: DaySummary
    page: Path | None
    """The day's page, staged beside its place (None: unchanged)."""
    paper_files: tuple[tuple[str, str, Path], ...]
    """Its papers' pages and figures that changed, staged: (base id, site path, file)."""


def _render_days(
    jobs: list[_DayJob], output_dir: Path, settings: SiteSettings, ranker: Ranker | None
) -> list[_StagedDay]:
    """Each job's summary and its pages, staged. If one record cannot be read, nothing is
    staged and BadInputError names it."""
    if len(jobs) < _PARALLEL_FROM_DAYS or (os.cpu_count() or 1) < 2:
        _start_worker(settings, output_dir, ranker)
        results = [_render_job(job) for job in jobs]
    else:
        # Fork: the workers start with the modules already imported.
        context = multiprocessing.get_context("fork")
        workers = min(os.cpu_count() or 1, 8)
        with ProcessPoolExecutor(
            workers,
            mp_context=context,
            initializer=_start_worker,
            initargs=(settings, output_dir, ranker),
        ) as pool:
            results = list(pool.map(_render_job, jobs, chunksize=max(1, len(jobs) // 64)))
    problems = [result for result in results if isinstance(result, str)]
    staged = [result for result in results if not isinstance(result, str)]
    if problems:
        for rendered in staged:
            for page in (rendered.page, *(page for _, _, page in rendered.paper_files)):
                if page is not None:
                    page.unlink(missing_ok=True)
        raise BadInputError(problems[0])
    return staged


_worker: _DayRenderer | None = None
_worker_output: Path = Path()


def _start_worker(settings: SiteSettings, output_dir: Path, ranker: Ranker | None) -> None:
    global _worker, _worker_output
    _worker = _DayRenderer(settings, _environment(settings, output_dir), ranker)
    _worker_output = output_dir


def _render_job(job: _DayJob) -> _StagedDay | str:
    """A day's summary and its staged pages, or the message of what is wrong with its record
    (an error crossing from a worker process must be plain data)."""
    assert _worker is not None
    try:
        stat = _stat(job.path)
        data = job.path.read_bytes()
        record = record_from_bytes(job.path, data)
        sha256 = hashlib.sha256(data).hexdigest()
        summary, page, paper_files = _worker.day(record, sha256, stat, job.neighbours, job.in_feed)
        staged_files = []
        for paper_id, url, content in paper_files:
            # Staged in the day's name: another day may list the same paper.
            staged_file = stage_file(_page_path(_worker_output, url), content, by=summary.day)
            if staged_file is not None:
                staged_files.append((paper_id, url, staged_file))
        return _StagedDay(
            summary,
            stage_file(_page_path(_worker_output, summary.url), page),
            tuple(staged_files),
        )
    except DigestError as error:
        return str(error)


class _DayRenderer:
    """Day pages, their papers' pages and their articles, from records."""

    def __init__(
        self, settings: SiteSettings, templates: jinja2.Environment, ranker: Ranker | None = None
    ) -> None:
        self.settings = settings
        self.templates = templates
        self.ranker = ranker
        self.article_template = templates.get_template("site/article.html.j2")
        self.day_template = templates.get_template("site/day.html.j2")
        self.paper_template = templates.get_template("site/paper.html.j2")
        self.body_template = templates.get_template("site/paper-body.html.j2")

    def day(
        self,
        record: DayRecord,
        sha256: str,
        stat: tuple[int, int],
        neighbours: tuple[str, str],
        in_feed: bool = False,
    ) -> tuple[DaySummary, str, list[tuple[str, str, str | bytes]]]:
        """A day's summary, its page, and its papers' pages and figures: (base id, site
        path, content)."""
        view = day_view(record, self.settings.view)
        context = self.article_context(view)
        article = self.article_template.render(context)
        summary = DaySummary(
            day=record.day.isoformat(),
            sha256=sha256,
            stat=stat,
            in_window=view.in_window,
            status=view.status,
            pending=view.pending,
            papers=tuple(paper["summary"] for paper in context["papers"]),
            neighbours=neighbours,
            article=article if in_feed else "",
        )
        page = self.day_template.render(
            day=summary, article=article, neighbours=_neighbour_links(record.day, neighbours)
        )
        papers = context["papers"]
        paper_files: list[tuple[str, str, str | bytes]] = []
        for index, paper in enumerate(papers):
            shown: PaperSummary = paper["summary"]
            paper_files.append((shown.base_id, shown.url, self.paper_template.render(
                paper=paper,
                day=summary,
                previous=papers[index - 1] if index else None,
                next=papers[index + 1] if index + 1 < len(papers) else None,
                permalink=self.settings.identity.absolute_base + shown.url,
            )))  # fmt: skip
            if paper["figure"]:
                paper_files.append(
                    (shown.base_id, paper["figure"]["url"], paper["figure"]["image"])
                )
        return summary, page, paper_files

    def article(self, record: DayRecord) -> str:
        """A day's article alone, as the feed carries it."""
        return self.article_template.render(
            self.article_context(day_view(record, self.settings.view))
        )

    def figure(self, view: PaperView) -> dict[str, Any] | None:
        """The paper's figure as its pages show it, when the figures folder has its file."""
        figure, folder = view.figure, self.settings.figures_dir
        if figure is None or folder is None:
            return None
        try:
            image = (folder / figure.file).read_bytes()
        except OSError:
            return None
        return {
            "url": urls.figure(figure.file),
            "caption": figure.caption,
            "width": figure.width,
            "height": figure.height,
            "image": image,
        }

    def article_context(self, view: DayView) -> dict[str, Any]:
        """What the article template sees of a day's view: untrusted text as sanitized HTML."""
        return {
            "day": view.day.isoformat(),
            "window_start": view.window_start,
            "window_end": view.window_end,
            "zone": view.zone,
            "in_window": view.in_window,
            "status": view.status,
            "papers": [
                self.paper(paper, relevance)
                for paper, relevance in zip(view.papers, self.relevance(view), strict=True)
            ],
            "not_shown": [
                {
                    "title": _inline_html(left.paper.title),
                    "abs_url": left.abs_url,
                    "arxiv_id": left.paper.arxiv_id,
                    "reason": left.reason,
                }
                for left in view.not_shown
            ],
            "unaccounted": view.unaccounted,
            "pending": view.pending,
            "settled": view.settled,
        }

    def relevance(self, view: DayView) -> list[Relevance | None]:
        """Each paper's relevance to the owner (None each when the site ranks nothing)."""
        if self.ranker is None:
            return [None] * len(view.papers)
        return list(self.ranker.relevance([paper.paper for paper in view.papers]))

    def paper(self, view: PaperView, relevance: Relevance | None = None) -> dict[str, Any]:
        """A paper as the day page and its own page show it, its HTML rendered once for both."""
        paper = view.paper
        summary = PaperSummary(
            arxiv_id=paper.arxiv_id,
            title=_inline_html(paper.title),
            title_zh=view.title_zh,
            summary_zh=view.summary_zh,
            topics=view.topics,
            score=relevance.score if relevance else -1,
            why=relevance.terms if relevance else (),
        )
        shown = {
            "summary": summary,
            "anchor": view.anchor,
            "authors": paper.authors,
            "categories": paper.categories,
            "version": paper.version,
            "revised": view.revised,
            "venue": view.venue,
            "interests": view.interests,
            "abs_url": view.abs_url,
            "pdf_url": view.pdf_url,
            "html_url": view.html_url,
            "comment": _inline_html(paper.comment) if paper.comment else "",
            "links": [link for link in view.links if _is_web_url(link.url)],
            "translation": _block_html(view.translation) if view.translation else "",
            "abstract": _block_html(paper.abstract) if paper.abstract else "",
            "analysis_parts": [
                (part.heading, _block_html(part.text)) for part in view.analysis_parts
            ],
            "analysis": (
                _block_html(view.analysis) if view.analysis and not view.analysis_parts else ""
            ),
            "has_analysis": bool(view.analysis),
            "analysis_gap": view.analysis_gap,
            "pending": view.pending,
            "translation_unconfirmed": view.translation_unconfirmed,
            "analysis_unconfirmed": view.analysis_unconfirmed,
            "bibtex": view.bibtex,
            "figure": self.figure(view),
            "avoided": relevance.avoided if relevance else "",
        }
        # What both of its pages show below its titles: rendered once, used on each.
        shown["body"] = self.body_template.render(paper=shown)
        return shown


def _neighbour_links(day: date, neighbours: tuple[str, str]) -> list[dict[str, Any]]:
    """The links to the previous and next days, each with how many days lie between (a
    gap of weeks is named as one, not as 前一天)."""
    links = []
    for rel, other in zip(("prev", "next"), neighbours, strict=True):
        if other:
            shown_on = date.fromisoformat(other)
            links.append(
                {"rel": rel, "day": other, "url": urls.day(shown_on),
                 "days_apart": abs((shown_on - day).days)}
            )  # fmt: skip
    return links


# Untrusted text on a page: the sanitizer's allowlist, rendered, then sanitized as HTML.
def _inline_html(text: str) -> str:
    return render_inline(sanitize.inline(text))


def _block_html(text: str) -> str:
    return render_block(sanitize.block(text, emphasis_marks=True))


def _is_web_url(url: str) -> bool:
    return urlsplit(url).scheme in ("http", "https")


def _environment(settings: SiteSettings, output_dir: Path) -> jinja2.Environment:
    """The site's templates, with what every page may name as globals: the site, its base
    path, its URLs, categories and topics (so that the shared macros are imported once,
    without a page's context)."""
    templates = template_environment(settings.templates_dir, output_dir / BYTECODE_DIR)
    templates.filters["xml_safe"] = xml_safe
    templates.filters["weekday"] = lambda day: weekday(date.fromisoformat(day))
    identity = settings.identity
    templates.globals.update(
        site=identity,
        base=identity.base_path,
        urls=urls,
        categories=settings.view.categories,
        topics=settings.view.topics,
        version=__version__,
    )
    return templates


def _with_feed_articles(
    ordered: Sequence[DaySummary],
    records_dir: Path,
    settings: SiteSettings,
    templates: jinja2.Environment,
    ranker: Ranker | None,
) -> list[DaySummary]:
    """The summaries with the article of each of the newest days (rendered here for a day
    that has none yet, as when a newer day was removed) and of no other."""
    renderer = _DayRenderer(settings, templates, ranker)
    summaries = []
    for index, summary in enumerate(ordered):
        if index >= FEED_DAYS:
            summary = replace(summary, article="") if summary.article else summary
        elif not summary.article:
            path = record_path(records_dir, date.fromisoformat(summary.day))
            record = read_record(path)
            if record is None:
                raise BadInputError(f"{path}: the record went away during the build; run again")
            summary = replace(summary, article=renderer.article(record))
        summaries.append(summary)
    return summaries


def _write_indexes(
    ordered: Sequence[DaySummary],
    output_dir: Path,
    settings: SiteSettings,
    templates: jinja2.Environment,
) -> dict[str, bool]:
    """The pages made from every day's summary, and the assets: each page's URL, and whether
    it was written (False: it held the same already)."""
    years: dict[int, dict[str, list[DaySummary]]] = {}
    for summary in ordered:
        years.setdefault(int(summary.day[:4]), {}).setdefault(summary.day[:7], []).append(summary)
    by_topic: dict[str, list[tuple[DaySummary, PaperSummary]]] = {
        key: [] for key in settings.view.topics
    }
    for summary in ordered:
        for paper in summary.papers:
            for key in paper.topics:
                by_topic[key].append((summary, paper))
    used_topics = {key: label for key, label in settings.view.topics.items() if by_topic[key]}

    def page(name: str, **values: Any) -> str:
        return templates.get_template(f"site/{name}").render(**values)

    home_days = ordered[:HOME_DAYS]
    featured = next((day for day in home_days if day.papers), None)
    picks = (
        top_picks(featured.papers, lambda paper: paper.score, settings.interests.picks)
        if featured
        else []
    )
    pages = {
        urls.HOME: page(
            "home.html.j2", days=home_days, featured=featured, picks=picks, total=len(ordered)
        ),
        urls.SEARCH: page("search.html.j2"),
        urls.NOT_FOUND: page("404.html.j2"),
        urls.FEED: page(
            "feed.xml.j2",
            feed_url=urls.FEED,
            feed_title=settings.identity.title,
            entries=[
                {
                    "id": summary.url,
                    "url": summary.url,
                    "title": f"{summary.day} {weekday(date.fromisoformat(summary.day))}"
                    f" · {len(summary.papers)} 篇",
                    "updated": summary.day,
                    "content": summary.article,
                }
                for summary in ordered[:FEED_DAYS]
            ],
        ),
    }
    all_years = sorted(years, reverse=True)
    for index, year in enumerate(all_years or [0]):
        archive = page("archive.html.j2", year=year, months=years.get(year, {}), years=all_years)
        pages[urls.archive(year)] = archive
        if index == 0:
            pages[urls.ARCHIVE] = archive
    paper_entry = templates.get_template("site/feed-paper.html.j2")
    if used_topics:
        pages[urls.TOPICS] = page(
            "topics.html.j2", counts={key: len(by_topic[key]) for key in used_topics}
        )
    for key, label in used_topics.items():
        entries = by_topic[key]
        page_count = -(-len(entries) // TOPIC_PAGE_PAPERS)
        for number in range(1, page_count + 1):
            pages[urls.topic(key, number)] = page(
                "topic.html.j2", key=key, label=label, total=len(entries),
                entries=entries[(number - 1) * TOPIC_PAGE_PAPERS : number * TOPIC_PAGE_PAPERS],
                page_number=number, page_count=page_count,
            )  # fmt: skip
        pages[urls.topic_feed(key)] = page(
            "feed.xml.j2",
            feed_url=urls.topic_feed(key),
            feed_title=f"{settings.identity.title} · {label}",
            entries=[
                {
                    "id": paper.url,
                    "url": paper.url,
                    "title": paper.title_zh or paper.arxiv_id,
                    "updated": summary.day,
                    "content": paper_entry.render(paper=paper),
                }
                for summary, paper in entries[:TOPIC_FEED_PAPERS]
            ],
        )
    written = {
        url: write_atomically(output_dir / urls.output_file(url), text, durable=False)
        for url, text in pages.items()
    }
    for name in ASSETS:
        source, _, _ = templates.loader.get_source(templates, f"site/assets/{name}")  # type: ignore[union-attr]
        write_atomically(output_dir / "assets" / name, source, durable=False)
    return written


def code_fingerprint(package_dir: Path) -> str:
    """The package's code as a whole: any module can change what a page says (an anchor, a
    URL, how a triage or a window is read), so a change to any one renders every page."""
    digest = hashlib.sha256(__version__.encode())
    for module in sorted(package_dir.rglob("*.py")):
        digest.update(module.relative_to(package_dir).as_posix().encode())
        digest.update(module.read_bytes())
    return digest.hexdigest()


def _fingerprint(templates: jinja2.Environment, settings: SiteSettings) -> str:
    """What every page depends on: the tool's code, the site's templates (each as the site
    overrides it) and the settings."""
    digest = hashlib.sha256(code_fingerprint(Path(__file__).parents[1]).encode())
    for name in sorted(templates.list_templates()):
        if name.startswith("site/"):
            source, _, _ = templates.loader.get_source(templates, name)  # type: ignore[union-attr]
            digest.update(name.encode())
            digest.update(source.encode("utf-8"))
    digest.update(repr(asdict(settings.identity)).encode())
    view = settings.view
    interests = settings.interests
    library = interests.library
    digest.update(
        json.dumps(
            [
                list(view.categories), dict(view.topics), list(view.interests),
                list(interests.liked), list(interests.avoid), interests.picks,
                hashlib.sha256(library.read_bytes()).hexdigest()
                if library and library.is_file()
                else "",
            ],
            ensure_ascii=False,
        ).encode()
    )  # fmt: skip
    return digest.hexdigest()


def _read_manifest(path: Path, fingerprint: str) -> tuple[dict[str, DaySummary], list[str]]:
    """The days rendered last time and the index pages written, or nothing when the tool,
    templates or settings changed."""
    try:
        # pydantic-core's parser: faster than the json module's at this size.
        manifest = from_json(path.read_bytes())
        if manifest["fingerprint"] != fingerprint:
            return {}, []
        summaries = [DaySummary.from_json(day) for day in manifest["days"]]
        indexes = [str(url) for url in manifest["indexes"]]
    except (OSError, ValueError, KeyError, TypeError):
        return {}, []
    return {summary.day: summary for summary in summaries}, indexes
