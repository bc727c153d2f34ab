"""Select stage: which papers of a window a day shows, and why the others are not shown.

Pure functions, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from arxiv_digest import record
from arxiv_digest.config import FilterSettings
from arxiv_digest.models import Paper, Window
from arxiv_digest.views.paperinfo import interests_of


@dataclass(frozen=True)
class Selection:
    in_window: int
    """Distinct papers first submitted in the window, as far as anyone has seen."""
    shown: tuple[Paper, ...]
    """The papers the day shows, newest first."""
    new: tuple[Paper, ...]
    """The shown papers that the day did not show before."""
    not_shown: tuple[tuple[Paper, str], ...]
    """Every other paper of the window, newest first, with the setting that left it out."""


def dedupe(papers: Iterable[Paper]) -> list[Paper]:
    """One paper per arXiv id (without version); the latest version wins."""
    by_id: dict[str, Paper] = {}
    for paper in papers:
        kept = by_id.get(paper.base_id)
        if kept is None or paper.version > kept.version:
            by_id[paper.base_id] = paper
    return list(by_id.values())


def newest_first(papers: Iterable[Paper], unknown: datetime) -> list[Paper]:
    """By first submission then id, newest first.

    Papers whose time is not known (imported from a post) count as submitted at
    `unknown` and keep their order among themselves: the sort is stable.
    """
    return sorted(
        papers,
        key=lambda paper: (paper.published, paper.base_id) if paper.published else (unknown, ""),
        reverse=True,
    )


def left_out_by(paper: Paper, categories: Iterable[str], settings: FilterSettings) -> str | None:
    """The setting that keeps `paper` from being shown, or None when it passes every filter."""
    wanted = set(categories)
    if settings.primary_only:
        if paper.primary_category not in wanted:
            return record.NOT_SHOWN_PRIMARY
    elif not wanted.intersection(paper.categories):
        return record.NOT_SHOWN_CATEGORY
    text = f"{paper.title}\n{paper.abstract or ''}".casefold()
    if settings.include_keywords and not any(
        keyword.casefold() in text for keyword in settings.include_keywords
    ):
        return record.NOT_SHOWN_INCLUDE
    if any(keyword.casefold() in text for keyword in settings.exclude_keywords):
        return record.NOT_SHOWN_EXCLUDE
    return None


def select(
    papers: Iterable[Paper],
    window: Window,
    categories: Sequence[str],
    settings: FilterSettings,
    shown_before: Sequence[Paper] = (),
    seen_before: Iterable[Paper] = (),
    counted_before: int = 0,
) -> Selection:
    """The papers of `window`: deduplicated, filtered, newest first, capped.

    `shown_before` (what the day's record shows) is always kept, in the version
    shown, so a rebuilt day never loses a paper; the cap limits only what is added.
    `seen_before` (the record's papers not shown) stay in the window even when the
    API no longer returns them, and the window never counts fewer than `counted_before`.
    """
    kept = {paper.base_id: paper for paper in shown_before}
    # The version a day already shows stays, so that a new version costs no model request.
    by_id = {paper.base_id: paper for paper in seen_before}
    by_id.update(
        (paper.base_id, paper) for paper in dedupe(p for p in papers if _in(window, p.published))
    )
    by_id.update(kept)
    in_window = newest_first(by_id.values(), unknown=window.start)
    room = max(0, settings.max_papers - len(kept))
    eligible: list[Paper] = []
    not_shown: list[tuple[Paper, str]] = []
    for paper in in_window:
        if paper.base_id in kept:
            continue
        reason = left_out_by(paper, categories, settings)
        if reason is None:
            eligible.append(paper)
        else:
            not_shown.append((paper, reason))
    # Under the cap, papers matching the site's interests come first, then the newest.
    eligible.sort(key=lambda paper: not interests_of(paper, settings.interests))
    new = eligible[:room]
    not_shown += [(paper, record.NOT_SHOWN_CAP) for paper in eligible[room:]]
    not_shown = in_window_order(in_window, not_shown)
    return Selection(
        in_window=max(len(in_window), counted_before),
        shown=tuple(newest_first([*kept.values(), *new], unknown=window.start)),
        new=tuple(new),
        not_shown=tuple(not_shown),
    )


def in_window_order(
    in_window: Sequence[Paper], pairs: Iterable[tuple[Paper, str]]
) -> list[tuple[Paper, str]]:
    position = {paper.base_id: index for index, paper in enumerate(in_window)}
    return sorted(pairs, key=lambda pair: position[pair[0].base_id])


def _in(window: Window, moment: datetime | None) -> bool:
    return moment is not None and window.contains(moment)
