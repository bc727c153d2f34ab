"""Which submissions belong to which day's post."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from arxiv_digest.models import Window


def anchor_moment(day: date, anchor: time, zone: ZoneInfo) -> datetime:
    """The anchor time on `day` in `zone`, as an aware datetime.

    A wall time that a DST change skips or repeats resolves the way zoneinfo
    does with fold=0; because every window's end is computed exactly like the
    next window's start, consecutive windows never overlap and never leave a gap.
    """
    return datetime.combine(day, anchor, tzinfo=zone)


def window_for(day: date, anchor: time, zone: ZoneInfo) -> Window:
    """The window [day-1 anchor, day anchor) of the post dated `day`."""
    return Window(
        day=day,
        start=anchor_moment(day - timedelta(days=1), anchor, zone),
        end=anchor_moment(day, anchor, zone),
    )


def day_of(moment: datetime, anchor: time, zone: ZoneInfo) -> date:
    """The day whose window holds `moment`."""
    local_day = moment.astimezone(zone).date()
    if moment >= anchor_moment(local_day, anchor, zone):
        return local_day + timedelta(days=1)
    return local_day


def api_timestamp(moment: datetime) -> str:
    """The arXiv API's submittedDate format: GMT, to the minute (YYYYMMDDHHMM)."""
    return moment.astimezone(UTC).strftime("%Y%m%d%H%M")


FIRST_ARXIV_DAY = date(1991, 8, 1)
SETTLED_AFTER = timedelta(days=14)
"""arXiv's longest delay between a submission and its announcement (the closure at the
year's end): a window that ended longer ago than this is settled, whatever a listing said."""
UNSETTLED_CEILING_DAYS = 30
"""`--refresh` looks this many windows back for unsettled ones: the longest closures
(year's end) defer announcements by about ten days."""


def with_refresh(days: Iterable[date], refresh_days: int) -> list[date]:
    """`days` and the `refresh_days` days before each, in order (none before arXiv existed)."""
    chosen = set(days)
    chosen.update(
        day - timedelta(days=n) for day in list(chosen) for n in range(1, refresh_days + 1)
    )
    return sorted(day for day in chosen if day >= FIRST_ARXIV_DAY)


def settled_by_age(window_end: datetime, now: datetime | None) -> bool:
    """Whether arXiv has announced all of a window by `now` whatever its listings said (no
    clock given: it cannot tell)."""
    return now is not None and now - window_end > SETTLED_AFTER
