"""The Jekyll post of a day, from its record: a Markdown view. No I/O beyond loading templates."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypedDict
from urllib.parse import quote

import jinja2

from arxiv_digest.answers.tasks import ANALYSIS, TRANSLATION, TRIAGE, parse_triage
from arxiv_digest.errors import DigestError
from arxiv_digest.record import (
    NOT_SHOWN_CAP,
    NOT_SHOWN_CATEGORY,
    NOT_SHOWN_EXCLUDE,
    NOT_SHOWN_INCLUDE,
    NOT_SHOWN_PRIMARY,
    DayRecord,
    ShownPaper,
)
from arxiv_digest.templating import get_template
from arxiv_digest.views import paperinfo, sanitize
from arxiv_digest.views.jekyll import liquid_safe

POST_TEMPLATE = "post.md.j2"
ABS_URL = "https://arxiv.org/abs/{id}"
PDF_URL = "https://arxiv.org/pdf/{id}"


class LinkContext(TypedDict):
    url: str
    """Percent-encoded where Markdown would read syntax: safe as a link target."""
    text: str
    kind: str
    """code, demo, data or page."""


class TriageContext(TypedDict):
    title_zh: str
    summary_zh: str
    topics: list[str]
    """The topics' labels, in the answer's order."""


class EntryContext(TypedDict):
    """One paper, its untrusted text made safe to publish (see sanitize)."""

    arxiv_id: str
    title: str
    authors: list[str]
    categories: list[str]
    abs_url: str
    pdf_url: str
    body: str
    """The translation, or the original abstract where there is none."""
    analysis: str | None
    triage: TriageContext | None
    links: list[LinkContext]
    comment: str | None
    venue: str | None
    """The venue the comment says the paper was accepted at."""
    version: int
    revised: bool
    interests: list[str]
    """The site's `filter.interests` the paper matches."""


class UnshownContext(TypedDict):
    title: str
    abs_url: str
    reason: str


class PostContext(TypedDict):
    date: str
    categories: list[str]
    timezone: str
    zone_abbreviation: str
    anchor: str
    window_start: str
    window_end: str
    fetched_count: int
    shown_count: int
    entries: list[EntryContext]
    list_unshown: bool
    """`output.list_unshown`: whether the post lists the papers of the window not shown."""
    unshown: list[UnshownContext]


# Why a paper of the window is not shown, as the post says it.
UNSHOWN_REASONS = {
    NOT_SHOWN_CAP: "超出每日上限",
    NOT_SHOWN_INCLUDE: "不含关注的关键词",
    NOT_SHOWN_EXCLUDE: "含排除的关键词",
    NOT_SHOWN_PRIMARY: "主分类不在本站分类中",
    NOT_SHOWN_CATEGORY: "不在本站分类中",
}


@dataclass(frozen=True)
class PostSettings:
    """What a site's configuration tells the post views."""

    categories: list[str]
    topics: Mapping[str, str] = field(default_factory=dict)
    interests: Sequence[str] = ()
    list_unshown: bool = False


def post_context(record: DayRecord, settings: PostSettings) -> PostContext:
    """What the post template sees of a day: its record, the untrusted text made safe."""
    window = record.zoned_window()
    return PostContext(
        date=record.day.isoformat(),
        categories=settings.categories,
        timezone=record.window.timezone,
        zone_abbreviation=window.end.strftime("%Z"),
        anchor=window.end.strftime("%H:%M"),
        window_start=window.start.strftime("%Y-%m-%d %H:%M"),
        window_end=window.end.strftime("%Y-%m-%d %H:%M"),
        fetched_count=record.in_window,
        shown_count=len(record.papers),
        entries=[_entry_context(shown, settings) for shown in record.papers],
        list_unshown=settings.list_unshown,
        unshown=[
            UnshownContext(
                title=_inline(left.paper.title),
                abs_url=ABS_URL.format(id=left.paper.arxiv_id),
                reason=UNSHOWN_REASONS.get(left.reason, _inline(left.reason)),
            )
            for left in record.not_shown
        ],
    )


def _entry_context(shown: ShownPaper, settings: PostSettings) -> EntryContext:
    paper = shown.paper
    translation = shown.answers.get(TRANSLATION.name)
    analysis = shown.answers.get(ANALYSIS.name)
    triage = shown.answers.get(TRIAGE.name)
    return EntryContext(
        arxiv_id=paper.arxiv_id,
        title=_inline(paper.title),
        authors=[_inline(author) for author in paper.authors],
        categories=[_inline(category) for category in paper.categories],
        abs_url=ABS_URL.format(id=paper.arxiv_id),
        pdf_url=PDF_URL.format(id=paper.arxiv_id),
        body=_block(translation.text if translation else paper.abstract or ""),
        analysis=None if analysis is None else _block(analysis.text),
        triage=None if triage is None else _triage_context(triage.text, settings.topics),
        links=[
            LinkContext(url=quote(link.url, safe=_URL_SAFE), text=_inline(link.url), kind=link.kind)
            for link in shown.links
        ],
        comment=None if paper.comment is None else _inline(paper.comment),
        venue=paperinfo.venue(paper.comment),
        version=paper.version,
        revised=paperinfo.revised(paper),
        interests=[_inline(term) for term in paperinfo.interests_of(paper, settings.interests)],
    )


def _triage_context(answer: str, topics: Mapping[str, str]) -> TriageContext:
    triage = parse_triage(answer)
    return TriageContext(
        title_zh=_inline(triage.title_zh),
        summary_zh=_inline(triage.summary_zh),
        topics=[_inline(topics.get(key, key)) for key in triage.topics],
    )


# Characters a link target keeps; the rest (parentheses, brackets, spaces, quotes) are encoded.
_URL_SAFE = ":/?#@!$&*+,;=%~._-"


# Untrusted text in a Jekyll post: the allowlisted Markdown, then safe from Liquid.
def _inline(text: str) -> str:
    return liquid_safe(sanitize.inline(text))


def _block(text: str) -> str:
    return liquid_safe(sanitize.block(text))


def render_post(environment: jinja2.Environment, context: PostContext) -> str:
    return _render(environment, POST_TEMPLATE, dict(context))


def _render(environment: jinja2.Environment, name: str, values: dict[str, object]) -> str:
    template = get_template(environment, name)
    try:
        return template.render(values)
    except jinja2.TemplateError as error:
        raise DigestError(f"template {name}: {error}") from None
