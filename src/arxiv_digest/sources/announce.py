"""What arXiv has announced: today's RSS listing, and which windows it settles.

arXiv takes submissions until 14:00 US Eastern on weekdays and announces them at 20:00
Eastern, Sunday to Thursday; each announcement is a listing dated the next day (Sunday
evening's is Monday's). A listing holds what was submitted before the deadline of the
weekday before its date: Monday's, Friday 14:00; Wednesday's, Tuesday 14:00. Holidays and
the year-end closure skip announcements, which is why nothing here guesses from a
calendar: the RSS feed says whether and when arXiv announced, and is empty on days
without an announcement.

A window is settled once an announcement that has happened covers its end: everything
submitted in it has been announced (save papers held for moderation, which the audit
finds when they are announced later).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from arxiv_digest.errors import FetchError
from arxiv_digest.models import base_id, is_arxiv_id
from arxiv_digest.sources.arxivxml import parse_xml, rfc2822

if TYPE_CHECKING:  # the HTTP client is imported by the commands that fetch, only
    from arxiv_digest.sources.arxivhttp import HttpGetter

RSS = "arXiv RSS"
EASTERN = ZoneInfo("America/New_York")
DEADLINE = time(14, 0)
"""The daily submission deadline, US Eastern."""
ANNOUNCED_TYPES = frozenset({"new", "cross"})
"""The listing's first announcements; `replace` and `replace-cross` are new versions."""
_ARXIV = "{http://arxiv.org/schemas/atom}"
_GUID_PREFIX = "oai:arXiv.org:"


@dataclass(frozen=True)
class Listed:
    """A paper in a listing."""

    arxiv_id: str
    """With its version, as announced (``2602.12345v1``)."""
    announce_type: str
    categories: tuple[str, ...]

    @property
    def base_id(self) -> str:
        return base_id(self.arxiv_id)


@dataclass(frozen=True)
class Announcement:
    """Today's listing, as the RSS feed has it."""

    listing_day: date | None
    """The listing's date; None when arXiv made no announcement today."""
    papers: tuple[Listed, ...] = ()

    @property
    def covers_until(self) -> datetime | None:
        """Every submission before this moment has been announced."""
        return None if self.listing_day is None else deadline_before(self.listing_day)

    def first_announced(self, categories: Iterable[str]) -> list[Listed]:
        """The new papers and new cross-lists in any of `categories`."""
        wanted = set(categories)
        return [
            listed
            for listed in self.papers
            if listed.announce_type in ANNOUNCED_TYPES and wanted.intersection(listed.categories)
        ]


def deadline_before(listing_day: date) -> datetime:
    """The submission deadline a listing dated `listing_day` covers: 14:00 Eastern on the
    weekday before it."""
    day = listing_day - timedelta(days=1)
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return datetime.combine(day, DEADLINE, EASTERN)


def is_settled(window_end: datetime, announcement: Announcement | None) -> bool:
    covered = announcement.covers_until if announcement is not None else None
    return covered is not None and window_end <= covered


class RssSource:
    """Today's listing of the configured categories, from arXiv's RSS feed."""

    def __init__(self, rss_url: str, categories: Iterable[str], getter: HttpGetter) -> None:
        self.url = f"{rss_url.rstrip('/')}/{'+'.join(categories)}"
        self._getter = getter

    @property
    def requests_made(self) -> int:
        return self._getter.requests_made

    def latest(self) -> Announcement:
        content = self._getter.get(self.url, {})
        try:
            return parse_rss(content)
        except ValueError as error:
            raise FetchError(str(error), service=RSS, url=self.url) from None


def parse_rss(content: bytes) -> Announcement:
    """The announcement an arXiv RSS feed holds (an empty feed: no announcement)."""
    root = parse_xml(content)
    channel = root.find("channel") if root is not None else None
    if channel is None or root.tag != "rss":
        raise ValueError("the answer is not an RSS feed")
    papers = []
    listing_day = None
    for item in channel.iterfind("item"):
        listed = _listed(item)
        if listed is None:
            continue
        papers.append(listed)
        published = rfc2822(item.findtext("pubDate"))
        if listing_day is None and published is not None:
            listing_day = published.date()  # the date in arXiv's own (Eastern) offset
    if papers and listing_day is None:
        published = rfc2822(channel.findtext("pubDate"))
        listing_day = published.date() if published is not None else None
    return Announcement(listing_day=listing_day, papers=tuple(papers))


def _listed(item: Any) -> Listed | None:
    guid = (item.findtext("guid") or "").strip()
    arxiv_id = guid.removeprefix(_GUID_PREFIX)
    if not guid.startswith(_GUID_PREFIX) or not is_arxiv_id(arxiv_id):
        return None
    return Listed(
        arxiv_id=arxiv_id,
        announce_type=(item.findtext(f"{_ARXIV}announce_type") or "").strip(),
        categories=tuple((c.text or "").strip() for c in item.iterfind("category")),
    )
