"""Nightly automation: date ranges, refreshes that pick up late announcements, the run
report, and what survives the loss of the cache or a change of template.

In-process through the seams (tests/inprocess.py); the run report's JSON and step summary
go through the installed command once, at the end.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from tests import corpus
from tests.conftest import Site
from tests.inprocess import Bench
from tests.standins import FeedPaper, announced_at

HOLIDAY = date(2026, 3, 19)  # a Thursday: that evening's announcement moves to Sunday
BEIJING = ZoneInfo("Asia/Shanghai")


def month_of_papers() -> list[FeedPaper]:
    """Three papers a day through March 2026, at hours that land on every side of the cutoffs."""
    papers = []
    start = datetime(2026, 2, 25, tzinfo=UTC)
    for day in range(40):
        for slot, hour in enumerate((0, 9, 19)):
            minute = 49 if slot == 0 else 17
            papers.append(
                FeedPaper(
                    arxiv_id=f"2603.{day:03d}{slot}{slot}v1",
                    title=f"Paper {day}-{slot}",
                    authors=["An Author"],
                    categories=["cs.SD"] if slot else ["eess.AS", "cs.LG"],
                    abstract=f"Abstract {day}-{slot}.",
                    published=start + timedelta(days=day, hours=hour, minutes=minute),
                )
            )
    return papers


def answer_anything(arxiv_id: str, task: str) -> str:
    return corpus.analysis_for(arxiv_id) if task == "analysis" else f"译文：{arxiv_id}"


def beijing_day(moment: datetime) -> date:
    """The post a submission belongs to: the window [D-1 08:50, D 08:50) Beijing (00:50 UTC)."""
    return (moment - timedelta(hours=0, minutes=50)).astimezone(UTC).date() + timedelta(days=1)


def shown_by_day(bench: Bench) -> dict[str, list[str]]:
    return {
        path.stem: bench.shown(path.stem)
        for path in sorted(bench.config.output.records_dir.glob("*.json"))
    }


def month_bench(tmp_path: Path) -> Bench:
    papers = month_of_papers()
    bench = Bench.of(tmp_path, papers)
    bench.source.holidays = frozenset({HOLIDAY})
    bench.model.answerer = answer_anything
    return bench


def nightly(bench: Bench, now: datetime) -> None:
    """The nightly job at `now`: `digest build --refresh`."""
    bench.source.now = now
    report = bench.build(now.astimezone(BEIJING).date().isoformat(), refresh=10)
    assert not report.incomplete


def test_a_month_of_nightly_refreshes_loses_no_paper(tmp_path: Path) -> None:
    bench = month_bench(tmp_path)
    first_night = datetime(2026, 3, 1, 1, 30, tzinfo=UTC)
    seen: dict[str, list[str]] = {}
    late = 0

    for night in range(31):
        nightly(bench, first_night + timedelta(days=night))
        current = shown_by_day(bench)
        for day, ids in seen.items():  # a rebuilt day never drops a paper
            assert set(ids) <= set(current[day]), day
        late += sum(
            len(set(ids) - set(seen.get(day, []))) for day, ids in current.items() if day in seen
        )
        seen = current

    # Every paper submitted in the windows of 2026-03-01 .. 2026-03-21 is in its own day:
    # the last night (31 March) refreshes ten windows back, beyond the holiday's deferral.
    expected: dict[str, list[str]] = {}
    for paper in month_of_papers():
        day = beijing_day(paper.published)
        if date(2026, 3, 1) <= day <= date(2026, 3, 21):
            expected.setdefault(day.isoformat(), []).append(paper.arxiv_id)
    for day, ids in expected.items():
        assert sorted(seen[day]) == sorted(ids), day
        assert bench.post(day).exists()
    assert late > 20  # many papers did arrive late, on a later night

    # Refreshing again the same night changes nothing and asks the model nothing.
    calls = len(bench.model.calls)
    report = bench.build("2026-03-31", refresh=10)
    assert len(bench.model.calls) == calls
    assert not any(day.new or day.changed for day in report.days)


def test_losing_the_cache_loses_nothing_and_asks_nothing(tmp_path: Path) -> None:
    """The nightly job's Actions cache is evicted: the records still know every answer."""
    bench = month_bench(tmp_path)
    nightly(bench, datetime(2026, 3, 10, 1, 30, tzinfo=UTC))
    before = {p: p.read_bytes() for p in [*tmp_path.glob("_records/*"), *tmp_path.glob("_posts/*")]}
    published = sum(len(ids) for ids in shown_by_day(bench).values())
    assert published > 20
    calls = len(bench.model.calls)

    for path in tmp_path.glob(".digest-cache.sqlite3*"):
        path.unlink()
    nightly(bench, datetime(2026, 3, 10, 1, 35, tzinfo=UTC))

    assert len(bench.model.calls) == calls
    assert bench.texts.downloads == published  # nor is any PDF fetched again
    after = {p: p.read_bytes() for p in [*tmp_path.glob("_records/*"), *tmp_path.glob("_posts/*")]}
    assert after == before


def test_a_template_that_links_elsewhere_keeps_every_paper_under_a_cap(tmp_path: Path) -> None:
    """The days' papers come from the records, never from what a template wrote."""
    bench = Bench.of(tmp_path)
    bench.build(corpus.DAY)
    shown = bench.shown()
    assert len(shown) == 4
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "post.md.j2").write_text(
        "{% for entry in entries %}## {{ entry.title }}\n"
        "[mirror](https://mirror.example.org/abs/{{ entry.arxiv_id }})\n\n"
        "{{ entry.body }}\n\n{% endfor %}",
        encoding="utf-8",
    )
    bench.configure(filter={"max_papers": 2})
    calls = len(bench.model.calls)

    bench.build(corpus.DAY)

    assert bench.shown() == shown
    assert len(bench.model.calls) == calls
    post = bench.post().read_text(encoding="utf-8")
    assert post.count("## ") == 4 and "arxiv.org" not in post
    assert [left.reason for left in bench.record().not_shown] == []


def test_a_late_paper_joins_its_day_and_costs_only_its_own_requests(tmp_path: Path) -> None:
    late = FeedPaper(
        arxiv_id="2602.20009v1",
        title="Announced Late",
        authors=["Slow Poke"],
        categories=["cs.SD"],
        abstract="Submitted on Thursday afternoon, US Eastern time.",
        published=corpus.at("2026-02-12T19:30:00"),
    )
    bench = Bench.of(tmp_path, [*corpus.PAPERS, late])
    bench.model.answers[(late.arxiv_id, "translation")] = "于 US 东部时间周四下午提交。"
    bench.model.answers[(late.arxiv_id, "analysis")] = corpus.analysis_for("Announced Late")
    morning = datetime(2026, 2, 13, 1, 30, tzinfo=UTC)
    assert announced_at(late.published) > morning
    bench.source.now = morning

    bench.build(corpus.DAY)
    # Thursday-afternoon (Eastern) submissions are announced on Sunday evening.
    assert bench.shown() == ["2602.20004v2", "2602.20003v1", "2602.20001v1"]

    monday = morning + timedelta(days=3)
    bench.source.now = monday
    calls = len(bench.model.calls)
    bench.build("2026-02-16", refresh=3)

    assert bench.shown()[:3] == ["2602.20005v1", late.arxiv_id, "2602.20004v2"]
    post = bench.post().read_text(encoding="utf-8")
    assert "- 抓取总数：5 篇 \\| 本页显示：5 篇（去重/过滤后）" in post
    assert sorted(bench.model.calls[calls:]) == sorted(
        (arxiv_id, task)
        for arxiv_id in ("2602.20005v1", late.arxiv_id, "2602.20002v1")
        for task in ("translation", "analysis")
    )


def test_the_cap_limits_only_papers_added_to_a_day(tmp_path: Path) -> None:
    bench = Bench.of(tmp_path)
    bench.configure(filter={"max_papers": 2})
    bench.build(corpus.DAY)
    assert bench.shown() == ["2602.20005v1", "2602.20004v2"]
    assert [(left.paper.arxiv_id, left.reason) for left in bench.record().not_shown] == [
        ("2602.20003v1", "filter.max_papers"),
        ("2602.20001v1", "filter.max_papers"),
    ]

    bench.configure(filter={"max_papers": 3})
    bench.build(corpus.DAY)
    assert bench.shown() == ["2602.20005v1", "2602.20004v2", "2602.20003v1"]
    assert "- 抓取总数：4 篇 \\| 本页显示：3 篇" in bench.post().read_text(encoding="utf-8")

    # A paper the day shows stays even when the API does not return it this time, and so
    # does a paper it did not show: the window never forgets one.
    bench.source.papers = [
        p for p in bench.source.papers if p.arxiv_id not in ("2602.20004v2", "2602.20001v1")
    ]
    bench.configure(filter={"max_papers": 1})
    bench.build(corpus.DAY)
    assert bench.shown() == ["2602.20005v1", "2602.20004v2", "2602.20003v1"]
    record = bench.record()
    assert [(left.paper.arxiv_id, left.reason) for left in record.not_shown] == [
        ("2602.20001v1", "filter.max_papers")
    ]
    assert record.in_window == 4


def test_a_30_day_backfill_makes_one_request_per_result_page(site: Site) -> None:
    papers = month_of_papers()
    site.arxiv.papers = papers
    site.pdfs.pdfs = {paper.arxiv_id: corpus.paper_pdf(paper, body_lines=2) for paper in papers}
    site.model.answerer = lambda arxiv_id, task, request: answer_anything(arxiv_id, task)
    site.write_config(arxiv={"page_size": 40})

    run = site.digest(
        "build", "--from", "2026-03-01", "--to", "2026-03-30", "--yes", "--report", "report.json"
    )

    assert run.status == 0, run.stderr
    in_span = [
        p for p in papers if date(2026, 3, 1) <= beijing_day(p.published) <= date(2026, 3, 30)
    ]
    assert len(site.arxiv.queries) == math.ceil(len(in_span) / 40)
    assert len(list((site.root / "_posts").glob("*-arxiv.md"))) == 30
    assert len(list((site.root / "_records").glob("*.json"))) == 30
    report = json.loads((site.root / "report.json").read_text(encoding="utf-8"))
    assert [day["date"] for day in report["days"]][:2] == ["2026-03-01", "2026-03-02"]
    assert sum(day["shown"] for day in report["days"]) == len(in_span)
    assert report["total"]["arxiv_requests"] == len(site.arxiv.queries) + site.arxiv.rss_requests


def test_run_report_as_json_and_github_step_summary(site: Site, tmp_path: Path) -> None:
    site.pdfs.pdfs.pop("2602.20003v1")
    site.write_config(
        llm={"input_price_per_million": 0.5, "output_price_per_million": 2.0},
        triage={"enabled": True},
    )
    summary = tmp_path / "step-summary.md"
    summary.write_text("earlier steps\n", encoding="utf-8")

    run = site.digest(
        "build", "--date", corpus.DAY, "--date", "2026-02-16", "--report", "out/report.json",
        # The clock of that Monday: older windows settle by age (arXiv's longest delay).
        env={"GITHUB_STEP_SUMMARY": str(summary), "DIGEST_NOW": "2026-02-16T12:00:00+00:00"},
    )  # fmt: skip

    assert run.status == 3
    report = json.loads((site.root / "out" / "report.json").read_text(encoding="utf-8"))
    day, monday = report["days"]
    assert (day["date"], day["in_window"], day["new"], day["shown"]) == (corpus.DAY, 4, 4, 4)
    # 4 translations, 3 analyses (one PDF is missing), 4 triages.
    assert (day["complete"], day["incomplete"], day["model_requests"]) == (3, 1, 11)
    expected_cost = (day["tokens_in"] * 0.5 + day["tokens_out"] * 2.0) / 1e6
    assert day["cost_usd"] == round(expected_cost, 6) and day["cost_usd"] > 0
    assert day["missing"] == [
        {"arxiv_id": "2602.20003v1", "task": "analysis", "reason": "PDF download failed: HTTP 404"}
    ]
    # Monday's window is empty because arXiv has not announced it yet: nothing to flag.
    assert monday["in_window"] == 0 and monday["flags"] == [] and not monday["settled"]
    assert report["announcement"] == {
        "listing": None, "audited": False, "announced": 0, "late": 0, "not_recorded": [],
        "unbuilt_days": {},
    }  # fmt: skip
    assert report["total"]["model_requests"] == 11
    by_task = report["total"]["by_task"]
    assert {task: usage["model_requests"] for task, usage in by_task.items()} == {
        "translation": 4, "analysis": 3, "triage": 4,
    }  # fmt: skip
    assert by_task["triage"]["cost_usd"] > 0
    markdown = summary.read_text(encoding="utf-8")
    assert markdown.startswith("earlier steps\n### arxiv-digest run\n")
    assert f"| {corpus.DAY} | 4 | 4 | 4 | 3 | 1 | 11 | 0 |" in markdown
    assert "| triage | 4 |" in markdown
    assert "By task: translation 4 requests" in run.stderr
    assert (
        "| 2026-02-16 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | $0.0000 | no | arXiv API |  |"
        in markdown
    )
    assert "arXiv made no announcement today" in markdown
    assert "arXiv made no announcement today" in run.stderr


def test_refresh_without_n_rebuilds_only_the_unsettled_windows(site: Site) -> None:
    monday = datetime(2026, 2, 16, 10, tzinfo=UTC)  # announced Monday evening: Tuesday's listing
    late = FeedPaper("2602.20099v1", "A Monday Paper", ["M. Onday"], ["cs.SD"], "Later.", monday)
    site.arxiv.papers.append(late)
    site.pdfs.pdfs[late.arxiv_id] = corpus.paper_pdf(late, body_lines=2)
    site.model.answerer = lambda arxiv_id, task, request: answer_anything(arxiv_id, task)
    site.arxiv.now = datetime(2026, 2, 17, 1, 30, tzinfo=UTC)
    tuesday = {"DIGEST_NOW": "2026-02-17T01:30:00+00:00"}
    first = site.digest(
        "build", "--from", "2026-02-13", "--yes", "--report", "first.json", env=tuesday
    )
    assert first.status == 0, first.stderr
    report = json.loads((site.root / "first.json").read_text(encoding="utf-8"))
    # Tuesday's listing covers what was submitted before Monday 14:00 US Eastern.
    assert {day["date"]: day["settled"] for day in report["days"]} == {
        "2026-02-13": True, "2026-02-14": True, "2026-02-15": True, "2026-02-16": True,
        "2026-02-17": False,
    }  # fmt: skip

    wednesday = {"DIGEST_NOW": "2026-02-18T01:30:00+00:00"}
    site.arxiv.now = datetime(2026, 2, 18, 1, 30, tzinfo=UTC)
    second = site.digest("build", "--refresh", "--yes", "--report", "second.json", env=wednesday)

    assert second.status == 0, second.stderr
    report = json.loads((site.root / "second.json").read_text(encoding="utf-8"))
    assert [day["date"] for day in report["days"]] == ["2026-02-17", "2026-02-18"]
