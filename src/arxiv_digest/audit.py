"""The audit: every paper arXiv announced today in the site's categories is in its window's
record, or the run says which is not and why.

It answers "the counts don't match arXiv" with evidence, and it finds what a fetch by
submission time cannot: a paper held for moderation and announced days after its window
was settled, or an old paper newly cross-listed into a category. Such a paper is looked
up by id and joins the day its first version was submitted in, when the site has that day.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from arxiv_digest.models import Paper
from arxiv_digest.record import DayRecord
from arxiv_digest.sources.announce import Announcement, Listed


@dataclass(frozen=True)
class Finding:
    """An announced paper that is not in its window's record."""

    arxiv_id: str
    reason: str
    unreturned: bool = False
    """arXiv did not return it at all: its window may be missing it, so nothing newly settles."""


@dataclass
class Audit:
    announced: int = 0
    """Papers announced today (new and cross-lists) in the site's categories."""
    late: dict[date, list[Paper]] = field(default_factory=dict)
    """Announced papers the fetch did not return, found by id, by the day they join."""
    findings: list[Finding] = field(default_factory=list)
    unbuilt: dict[date, list[str]] = field(default_factory=dict)
    """Announced papers whose window the site has no record of, by that window's day."""

    @property
    def unreturned(self) -> bool:
        return any(finding.unreturned for finding in self.findings)

    @property
    def unbuilt_papers(self) -> int:
        return sum(len(ids) for ids in self.unbuilt.values())

    @property
    def late_papers(self) -> int:
        return sum(len(papers) for papers in self.late.values())


def missing_from(
    announcement: Announcement | None, categories: Iterable[str], fetched: Iterable[Paper]
) -> list[Listed]:
    """Today's announced papers in `categories` that the fetch did not return."""
    if announcement is None:
        return []
    have = {paper.base_id for paper in fetched}
    return [
        listed for listed in announcement.first_announced(categories) if listed.base_id not in have
    ]


def audit(
    announcement: Announcement | None,
    categories: Collection[str],
    missing: Iterable[Listed],
    found: Iterable[Paper],
    built_days: Collection[date],
    day_of: Callable[[datetime], date],
    record_of: Callable[[date], DayRecord | None],
    served_by: str,
) -> Audit:
    """Where each missing paper belongs, given the papers `found` by id.

    A paper found by id joins its day when that day is built now or has a record that
    lacks it; one whose day has no record is counted with that day; one that arXiv does
    not return by id yet is a finding.
    """
    report = Audit(announced=len(announcement.first_announced(categories)) if announcement else 0)
    by_id = {paper.base_id: paper for paper in found}
    for listed in missing:
        paper = by_id.get(listed.base_id)
        if paper is None or paper.published is None:
            reason = f"{served_by} does not return it yet"
            report.findings.append(Finding(listed.arxiv_id, reason, unreturned=True))
            continue
        day = day_of(paper.published)
        record = None if day in built_days else record_of(day)
        if day not in built_days and record is None:
            report.unbuilt.setdefault(day, []).append(listed.arxiv_id)
            continue
        if record is not None and _holds(record, listed.base_id):
            continue  # recorded on an earlier night
        report.late.setdefault(day, []).append(paper)
    return report


def _holds(record: DayRecord, base_id: str) -> bool:
    papers = [shown.paper for shown in record.papers] + [left.paper for left in record.not_shown]
    return any(paper.base_id == base_id for paper in papers)
