"""One view of a day, built once from its record and the site's settings: its window, its
status, and each paper with its answers by task, its triage, links, URLs and what the
record lets a view derive (venue, revision, interests). Every output (the post, the site's
pages, feeds and search, and later mail) is a thin writer of this view, and applies the
escaping its own format needs; none of them reads a record or an answer by itself.

The view holds untrusted text as it came: making it safe is each writer's business.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

from arxiv_digest.answers.tasks import (
    ANALYSIS,
    ANALYSIS_PARTS,
    TRANSLATION,
    TRIAGE,
    Triage,
    analysis_parts,
    parse_triage,
)
from arxiv_digest.config import Config
from arxiv_digest.models import Figure, Link, Paper
from arxiv_digest.record import (
    NOT_SHOWN_CAP,
    NOT_SHOWN_CATEGORY,
    NOT_SHOWN_EXCLUDE,
    NOT_SHOWN_INCLUDE,
    NOT_SHOWN_PRIMARY,
    DayRecord,
    ShownPaper,
)
from arxiv_digest.views import paperinfo, urls
from arxiv_digest.window import settled_by_age

# Why a paper of the window is not shown, as readers are told.
UNSHOWN_REASONS = {
    NOT_SHOWN_CAP: "超出每日上限",
    NOT_SHOWN_INCLUDE: "不含关注的关键词",
    NOT_SHOWN_EXCLUDE: "含排除的关键词",
    NOT_SHOWN_PRIMARY: "主分类不在本站分类中",
    NOT_SHOWN_CATEGORY: "不在本站分类中",
}


@dataclass(frozen=True)
class ViewSettings:
    """What a site's configuration tells its views."""

    categories: Sequence[str]
    topics: Mapping[str, str] = field(default_factory=dict)
    """Topic key → label, from `triage.topics`."""
    interests: Sequence[str] = ()
    now: datetime | None = None
    """The clock: a window older than arXiv's longest delay is settled whatever its record
    says (None: as its record says)."""

    @classmethod
    def of(cls, config: Config, now: datetime | None = None) -> ViewSettings:
        return cls(
            categories=tuple(config.arxiv.categories),
            topics=dict(config.triage.topics),
            interests=tuple(config.filter.interests),
            now=now,
        )


WEEKDAYS = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")


def weekday(day: date) -> str:
    """The day of the week as a Chinese reader names it (周五)."""
    return WEEKDAYS[day.weekday()]


@dataclass(frozen=True)
class AnalysisPart:
    heading: str
    """The part's name, as the analysis prompt names it."""
    text: str


@dataclass(frozen=True)
class PaperView:
    paper: Paper
    anchor: str
    page_url: str
    """The paper's own page on the site."""
    abs_url: str
    pdf_url: str
    html_url: str
    translation: str | None
    analysis: str | None
    analysis_parts: tuple[AnalysisPart, ...]
    """The analysis by its parts, each under its name (none when it is not in three parts)."""
    analysis_gap: str | None
    """Why the analysis is missing, when a build asked for it and failed."""
    translation_unconfirmed: tuple[str, ...]
    """The abstract's figures and names the translation does not give (after every try)."""
    analysis_unconfirmed: tuple[str, ...]
    """The numbers the analysis gives that the paper's text does not hold."""
    triage: Triage | None
    topics: tuple[str, ...]
    """The triage's topics that the site lists (keys), in the answer's order."""
    links: tuple[Link, ...]
    venue: str | None
    revised: bool
    interests: tuple[str, ...]
    """The site's interests the paper matches."""
    bibtex: str
    figure: Figure | None
    pending: tuple[str, ...] = ()
    """The tasks whose answers wait in a provider's batch, for a later build to collect."""

    @property
    def title_zh(self) -> str:
        return self.triage.title_zh if self.triage else ""

    @property
    def summary_zh(self) -> str:
        return self.triage.summary_zh if self.triage else ""


@dataclass(frozen=True)
class UnshownView:
    paper: Paper
    abs_url: str
    reason: str
    """Why it is not shown, as readers are told (the setting's name if it has no words)."""


DayStatus = Literal["shown", "none-shown", "nothing", "waiting"]
"""A day's status: papers shown; papers in the window but none shown; arXiv announced nothing
in the window; or nothing announced yet (arXiv may still add to it)."""


@dataclass(frozen=True)
class DayView:
    day: date
    timezone: str
    zone_abbreviation: str
    """The zone's abbreviation at the window's end (CST), empty where the zone has none."""
    anchor: str
    """The time of day that closes the window, HH:MM."""
    window_start: str
    window_end: str
    """The window's ends in its own zone, `YYYY-MM-DD HH:MM`."""
    in_window: int
    papers: tuple[PaperView, ...]
    not_shown: tuple[UnshownView, ...]
    unaccounted: int
    """Papers the window counts that the record cannot name (imported days only)."""
    settled: bool
    pending: bool
    """Whether arXiv may still add papers to the window (records from before `settled`,
    schema 1, say nothing either way)."""

    @property
    def status(self) -> DayStatus:
        """What the day's pages say of it, the same on each: papers shown, or why none is."""
        if self.papers:
            return "shown"
        if self.in_window:
            return "none-shown"
        return "nothing" if self.settled else "waiting"

    @property
    def zone(self) -> str:
        """How a page names the window's zone: its abbreviation, or else its name."""
        return self.zone_abbreviation or self.timezone


def day_view(record: DayRecord, settings: ViewSettings) -> DayView:
    """The view of the day `record` holds."""
    window = record.zoned_window()
    settled = record.settled or settled_by_age(window.end, settings.now)
    return DayView(
        day=record.day,
        timezone=record.window.timezone,
        zone_abbreviation=window.end.strftime("%Z"),
        anchor=window.end.strftime("%H:%M"),
        window_start=window.start.strftime("%Y-%m-%d %H:%M"),
        window_end=window.end.strftime("%Y-%m-%d %H:%M"),
        in_window=record.in_window,
        papers=tuple(_paper_view(record.day, shown, settings) for shown in record.papers),
        not_shown=tuple(
            UnshownView(
                paper=left.paper,
                abs_url=urls.abs_url(left.paper.arxiv_id),
                reason=UNSHOWN_REASONS.get(left.reason, left.reason),
            )
            for left in record.not_shown
        ),
        unaccounted=record.unaccounted,
        settled=settled,
        pending=record.schema >= 2 and not settled,
    )


def _paper_view(day: date, shown: ShownPaper, settings: ViewSettings) -> PaperView:
    paper = shown.paper
    translation = shown.answers.get(TRANSLATION.name)
    analysis = shown.answers.get(ANALYSIS.name)
    triage_answer = shown.answers.get(TRIAGE.name)
    triage = parse_triage(triage_answer.text) if triage_answer else None
    parts = analysis_parts(analysis.text) if analysis else None
    return PaperView(
        paper=paper,
        anchor=urls.paper_anchor(paper.arxiv_id),
        page_url=urls.paper_page(paper.arxiv_id),
        abs_url=urls.abs_url(paper.arxiv_id),
        pdf_url=urls.pdf_url(paper.arxiv_id),
        html_url=urls.html_url(paper.arxiv_id),
        translation=translation.text if translation else None,
        analysis=analysis.text if analysis else None,
        analysis_parts=tuple(
            AnalysisPart(heading, text) for heading, text in zip(ANALYSIS_PARTS, parts, strict=True)
        )
        if parts
        else (),
        analysis_gap=shown.gaps.get(ANALYSIS.name),
        translation_unconfirmed=translation.unconfirmed if translation else (),
        analysis_unconfirmed=analysis.unconfirmed if analysis else (),
        triage=triage,
        topics=tuple(key for key in triage.topics if key in settings.topics) if triage else (),
        links=shown.links,
        venue=paperinfo.venue(paper.comment),
        revised=paperinfo.revised(paper),
        interests=tuple(paperinfo.interests_of(paper, settings.interests)),
        bibtex=paperinfo.bibtex(paper),
        figure=shown.figure,
        pending=tuple(shown.pending),
    )
