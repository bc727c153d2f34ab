"""Select stage: which of the fetched papers a post shows. Pure functions, no I/O."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from arxiv_digest.config import FilterSettings
from arxiv_digest.models import Paper, Window


@dataclass(frozen=True)
class Selection:
    in_window: tuple[Paper, ...]
    """Every distinct paper first submitted in the window."""
    shown: tuple[Paper, ...]
    """The papers the post shows, newest first."""
    new: tuple[Paper, ...]
    """The shown papers that the post did not show before."""


def dedupe(papers: Iterable[Paper]) -> list[Paper]:
    """One paper per arXiv id (without version); the latest version wins."""
    by_id: dict[str, Paper] = {}
    for paper in papers:
        kept = by_id.get(paper.base_id)
        if kept is None or _version(paper) > _version(kept):
            by_id[paper.base_id] = paper
    return list(by_id.values())


def newest_first(papers: Iterable[Paper]) -> list[Paper]:
    return sorted(papers, key=lambda paper: (paper.published, paper.base_id), reverse=True)


def matches(paper: Paper, categories: Iterable[str], settings: FilterSettings) -> bool:
    """Whether `paper` passes the category and keyword filters."""
    wanted = set(categories)
    if settings.primary_only:
        if paper.primary_category not in wanted:
            return False
    elif not wanted.intersection(paper.categories):
        return False
    text = f"{paper.title}\n{paper.abstract}".casefold()
    if settings.include_keywords and not any(
        keyword.casefold() in text for keyword in settings.include_keywords
    ):
        return False
    return not any(keyword.casefold() in text for keyword in settings.exclude_keywords)


def select(
    papers: Iterable[Paper],
    window: Window,
    categories: Iterable[str],
    settings: FilterSettings,
    already_shown: Iterable[Paper] = (),
) -> Selection:
    """The papers of `window`: deduplicated, filtered, newest first, capped.

    A paper in `already_shown` (what the existing post shows) is always kept, in
    the version shown, so a rebuilt post never loses a paper; the cap only limits
    what is added to it.
    """
    kept = {paper.base_id: paper for paper in already_shown}
    # The version a post already shows stays, so that a new version costs no model request.
    by_id = {
        paper.base_id: paper for paper in dedupe(p for p in papers if window.contains(p.published))
    }
    in_window = newest_first({**by_id, **kept}.values())
    categories = tuple(categories)
    candidates = [
        paper
        for paper in in_window
        if paper.base_id not in kept and matches(paper, categories, settings)
    ]
    room = max(0, settings.max_papers - len(kept))
    new = candidates[:room]
    old = [paper for paper in in_window if paper.base_id in kept]
    return Selection(
        in_window=tuple(in_window), shown=tuple(newest_first([*old, *new])), new=tuple(new)
    )


def _version(paper: Paper) -> int:
    suffix = paper.arxiv_id[len(paper.base_id) + 1 :]
    return int(suffix) if suffix.isdigit() else 0
