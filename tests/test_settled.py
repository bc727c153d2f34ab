"""Settled windows, today's announcement and its audit, over a simulated year of nights.

In-process through the seams: the stand-in arXiv announces by its schedule (Sunday to
Thursday at 20:00 US Eastern, none on holidays), its RSS feed is rendered and read back
as the real one is, and each night runs `digest build --refresh` (the unsettled windows).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from arxiv_digest.audit import audit
from arxiv_digest.models import Paper
from arxiv_digest.report import RunReport
from arxiv_digest.sources.announce import Announcement, Listed, deadline_before, is_settled
from tests import corpus
from tests.inprocess import Bench, as_paper
from tests.standins import EASTERN, FeedPaper, is_announcement_day
from tests.test_refresh import BEIJING, answer_anything, beijing_day

FIRST_NIGHT = datetime(2025, 12, 15, 1, 30, tzinfo=UTC)
NIGHTS = 365
# arXiv's year-end closure (no announcements from 24 December to 1 January) and a holiday week.
CLOSURE = frozenset(date(2025, 12, 24) + timedelta(days=n) for n in range(9))
HOLIDAY_WEEK = frozenset(date(2026, 7, 1) + timedelta(days=n) for n in range(7))
HELD = {"2606.00100v1": 9, "2609.00200v1": 12}
"""Papers held for moderation, by days: announced after their window has settled."""


def year_of_papers() -> list[FeedPaper]:
    """One or two papers a day, at hours on every side of the deadlines, some cross-listed."""
    papers = []
    start = FIRST_NIGHT - timedelta(days=10)
    for day in range(NIGHTS + 10):
        moment = start + timedelta(days=day)
        for slot, hour in enumerate((3, 19) if day % 3 else (11,)):
            arxiv_id = f"{moment:%y%m}.{day:03d}{slot}{slot}v1"
            papers.append(
                FeedPaper(
                    arxiv_id=arxiv_id,
                    title=f"Paper {day}-{slot}",
                    authors=["An Author"],
                    categories=["cs.CL", "cs.SD"] if day % 5 == 0 else ["eess.AS"],
                    abstract=f"Abstract {day}-{slot}.",
                    published=moment + timedelta(hours=hour - 1, minutes=7),
                    held_days=HELD.get(arxiv_id, 0),
                )
            )
    for arxiv_id, held in HELD.items():  # two held papers, submitted mid-June and mid-September
        published = datetime(2000 + int(arxiv_id[:2]), int(arxiv_id[2:4]), 15, 12, tzinfo=UTC)
        papers.append(
            FeedPaper(
                arxiv_id=arxiv_id, title="A held paper", authors=["Held Author"],
                categories=["cs.SD"], abstract="Held.", published=published, held_days=held,
            )
        )  # fmt: skip
    return papers


def test_a_year_with_closures_settles_every_window_and_loses_no_paper(tmp_path: Path) -> None:
    papers = year_of_papers()
    bench = Bench.of(tmp_path, papers)
    bench.source.holidays = CLOSURE | HOLIDAY_WEEK
    bench.model.answerer = answer_anything
    records_dir = bench.config.output.records_dir
    settled_at: dict[str, int] = {}
    """Each settled record's modification time: a write of identical bytes is skipped."""
    quiet_nights = late = most_rebuilt = 0

    for night in range(NIGHTS):
        now = FIRST_NIGHT + timedelta(days=night)
        bench.source.now = now
        bench.messages.clear()
        # The first night starts the site with the week before it, as a new site would.
        refresh = 7 if night == 0 else "unsettled"
        report = bench.build(
            now.astimezone(BEIJING).date().isoformat(), refresh=refresh, announcements=True
        )
        assert not report.incomplete
        if report.announcement and report.announcement.listing_day:
            assert report.audit is not None and not report.audit.findings, now
            assert not report.audit.unbuilt, now
            late += report.audit.late_papers
        # The night runs at 20:30 or 21:30 US Eastern: the feed has a listing exactly when
        # arXiv announced that evening.
        evening = now.astimezone(EASTERN).date()
        announced = is_announcement_day(evening, bench.source.holidays)
        assert report.announcement is not None
        assert (report.announcement.listing_day is not None) == announced, now
        if not announced:
            quiet_nights += 1
            assert "arXiv made no announcement today" in bench.messages
        assert not any(flag for day in report.days for flag in day.flags), now
        # A settled window costs nothing: its record is not written again (a late paper aside).
        rebuilt = {day.day.isoformat() for day in report.days}
        for day, modified in settled_at.items():
            if day not in rebuilt:
                assert (records_dir / f"{day}.json").stat().st_mtime_ns == modified, (now, day)
        for day_report in report.days:
            if day_report.settled:
                path = records_dir / f"{day_report.day}.json"
                settled_at[day_report.day.isoformat()] = path.stat().st_mtime_ns
        # Each night rebuilds tonight's window and the few arXiv has not announced in full
        # (after the year-end closure, the closure's windows and a weekend's).
        assert len(report.days) <= len(CLOSURE) + 5, (now, [d.day for d in report.days])
        most_rebuilt = max(most_rebuilt, len(report.days))

    last_day = (FIRST_NIGHT + timedelta(days=NIGHTS - 1)).astimezone(BEIJING).date()
    records = {path.stem: bench.record(path.stem) for path in sorted(records_dir.glob("*.json"))}
    for paper in papers:
        day = beijing_day(paper.published)
        if not min(records) <= day.isoformat() <= last_day.isoformat():
            continue  # before the site's first day, or after its last
        if paper.announced(bench.source.holidays) > bench.source.now:
            continue
        record = records[day.isoformat()]
        assert paper.arxiv_id in {shown.paper.arxiv_id for shown in record.papers}, paper
    # Every window is settled but the last few, which arXiv has not announced yet.
    unsettled = sorted(day for day, record in records.items() if not record.settled)
    assert unsettled and all(day >= (last_day - timedelta(days=4)).isoformat() for day in unsettled)
    assert most_rebuilt == 13  # on 5 January, the first night after the closure's announcements
    assert late == len(HELD)  # the held papers joined their settled days
    assert quiet_nights >= 2 * 52 + len(CLOSURE)  # Saturdays, Sundays (Beijing) and closures


def test_a_window_older_than_arxiv_s_longest_delay_settles_without_a_listing(
    tmp_path: Path,
) -> None:
    # The RSS listing is not read (it failed, or a backfill): age alone settles a window.
    bench = Bench.of(tmp_path)
    end = datetime(2026, 2, 13, 0, 50, tzinfo=UTC)  # 2026-02-13's window closes
    bench.build(corpus.DAY, now=end + timedelta(days=14))
    assert not bench.record().settled  # two weeks: the year's closure can be as long
    bench.build(corpus.DAY, now=end + timedelta(days=14, minutes=1))
    assert bench.record().settled
    bench.build("2026-02-14", now=None)  # no clock given: nothing settles by age
    assert not bench.record("2026-02-14").settled


def test_a_listing_settles_windows_up_to_its_deadline() -> None:
    monday = Announcement(listing_day=date(2026, 2, 16))  # Sunday evening's announcement
    tuesday = Announcement(listing_day=date(2026, 2, 17))

    assert deadline_before(date(2026, 2, 16)) == datetime(2026, 2, 13, 14, tzinfo=EASTERN)
    assert deadline_before(date(2026, 2, 17)) == datetime(2026, 2, 16, 14, tzinfo=EASTERN)
    # The window of Saturday 14 February (Beijing) ends Friday 19:50 Eastern: after Friday's
    # deadline, so Monday's listing does not settle it, and Tuesday's does.
    saturday_end = datetime(2026, 2, 14, 0, 50, tzinfo=UTC)
    assert not is_settled(saturday_end, monday)
    assert is_settled(saturday_end, tuesday)
    assert not is_settled(saturday_end, Announcement(listing_day=None))
    assert not is_settled(saturday_end, None)


def test_the_audit_names_what_it_cannot_place() -> None:
    listed = [
        Listed("2602.00001v1", "new", ("cs.SD",)),
        Listed("2601.00002v1", "cross", ("cs.SD",)),
    ]
    announcement = Announcement(date(2026, 2, 13), tuple(listed))
    old = as_paper(
        FeedPaper(
            arxiv_id="2601.00002v1", title="t", authors=["a"], categories=["cs.CL", "cs.SD"],
            abstract="x", published=datetime(2026, 1, 5, 12, tzinfo=UTC),
        )
    )  # fmt: skip

    found = audit(
        announcement,
        ["cs.SD"],
        missing=listed,
        found=[old],
        built_days={date(2026, 2, 13)},
        day_of=beijing_day,
        record_of=lambda day: None,
        served_by="arXiv API",
    )

    assert found.announced == 2 and found.late == {}
    assert [(item.arxiv_id, item.reason) for item in found.findings] == [
        ("2602.00001v1", "arXiv API does not return it yet")
    ]
    assert found.unreturned
    assert found.unbuilt == {date(2026, 1, 6): ["2601.00002v1"]}
    assert RunReport(announcement=announcement, audit=found).announcement_lines() == [
        "arXiv's listing of Fri 13 Feb 2026: 2 papers announced in the site's categories,"
        " 0 in their records",
        "  not recorded: 2602.00001v1: arXiv API does not return it yet",
        "  1 paper of the listing belongs to days the site has not built (2026-01-06);"
        " `digest build --date DAY` adds a day",
    ]


def test_papers_are_placed_by_id_without_record_reads(tmp_path: Path) -> None:
    paper: Paper = as_paper(year_of_papers()[0])
    found = audit(
        Announcement(date(2026, 2, 13), (Listed(paper.arxiv_id, "new", ("eess.AS",)),)),
        ["eess.AS"],
        missing=[Listed(paper.arxiv_id, "new", ("eess.AS",))],
        found=[paper],
        built_days={beijing_day(paper.published or FIRST_NIGHT)},
        day_of=beijing_day,
        record_of=lambda day: (_ for _ in ()).throw(AssertionError("read a record")),
        served_by="arXiv API",
    )
    assert found.late_papers == 1 and not found.findings


def test_a_backfill_of_older_days_does_not_audit_today_s_listing(tmp_path: Path) -> None:
    bench = Bench.of(tmp_path, year_of_papers())
    bench.source.now = datetime(2026, 3, 6, 1, 30, tzinfo=UTC)  # Friday's listing is out

    report = bench.build("2026-02-10", announcements=True)

    assert report.announcement is not None and report.announcement.listing_day == date(2026, 3, 6)
    assert report.audit is None and report.days[0].settled
    assert "today's listing is not audited: the run does not build its day" in bench.messages
    assert bench.source.requests_made == 1  # the fetch; no lookup of the listing by id
    assert report.announcement_lines() == [
        "arXiv's listing of Fri 06 Mar 2026: not audited, the run does not build its day"
    ]
