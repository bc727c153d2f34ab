"""The Jekyll post of a day, from its record: a Markdown view. No I/O beyond loading templates."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypedDict
from urllib.parse import quote

import jinja2

from arxiv_digest.errors import DigestError
from arxiv_digest.templating import get_template
from arxiv_digest.views import sanitize
from arxiv_digest.views.day import DayView, PaperView, ViewSettings
from arxiv_digest.views.jekyll import liquid_safe
from arxiv_digest.views.ranking import Relevance

POST_TEMPLATE = "post.md.j2"


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
    unconfirmed: list[str]
    """The abstract's figures and names the translation does not give (after every try)."""
    analysis_unconfirmed: list[str]
    """The numbers the analysis gives that the paper's text does not hold."""
    triage: TriageContext | None
    links: list[LinkContext]
    comment: str | None
    venue: str | None
    """The venue the comment says the paper was accepted at."""
    version: int
    revised: bool
    interests: list[str]
    """The site's `filter.interests` the paper matches."""
    relevance: int | None
    """Its relevance to the site's owner, 0 to 100, when the site has likes (`interests`):
    for a template that asks; the default one does not show it."""
    relevance_terms: list[str]
    """The terms that raise it most."""


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


def post_context(
    day: DayView,
    settings: ViewSettings,
    list_unshown: bool = False,
    relevance: Sequence[Relevance] | None = None,
) -> PostContext:
    """What the post template sees of a day's view: its untrusted text made safe to publish
    as Markdown, and from Liquid. `list_unshown` is `output.list_unshown`; `relevance`, each
    paper's for the owner, when the site ranks them."""
    return PostContext(
        date=day.day.isoformat(),
        categories=list(settings.categories),
        timezone=day.timezone,
        zone_abbreviation=day.zone_abbreviation,
        anchor=day.anchor,
        window_start=day.window_start,
        window_end=day.window_end,
        fetched_count=day.in_window,
        shown_count=len(day.papers),
        entries=[
            _entry_context(paper, settings, relevance[index] if relevance else None)
            for index, paper in enumerate(day.papers)
        ],
        list_unshown=list_unshown,
        unshown=[
            UnshownContext(
                title=_inline(left.paper.title), abs_url=left.abs_url, reason=_inline(left.reason)
            )
            for left in day.not_shown
        ],
    )


def _entry_context(
    view: PaperView, settings: ViewSettings, relevance: Relevance | None
) -> EntryContext:
    paper = view.paper
    return EntryContext(
        arxiv_id=paper.arxiv_id,
        title=_inline(paper.title),
        authors=[_inline(author) for author in paper.authors],
        categories=[_inline(category) for category in paper.categories],
        abs_url=view.abs_url,
        pdf_url=view.pdf_url,
        body=_block(view.translation if view.translation is not None else paper.abstract or ""),
        analysis=None if view.analysis is None else _block(view.analysis),
        unconfirmed=[_inline(figure) for figure in view.translation_unconfirmed],
        analysis_unconfirmed=[_inline(figure) for figure in view.analysis_unconfirmed],
        triage=None
        if view.triage is None
        else TriageContext(
            title_zh=_inline(view.triage.title_zh),
            summary_zh=_inline(view.triage.summary_zh),
            topics=[_inline(settings.topics.get(key, key)) for key in view.triage.topics],
        ),
        links=[
            LinkContext(url=quote(link.url, safe=_URL_SAFE), text=_inline(link.url), kind=link.kind)
            for link in view.links
        ],
        comment=None if paper.comment is None else _inline(paper.comment),
        venue=view.venue,
        version=paper.version,
        revised=view.revised,
        interests=[_inline(term) for term in view.interests],
        relevance=relevance.score if relevance else None,
        relevance_terms=[_inline(term) for term in relevance.terms] if relevance else [],
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
