"""Nightly automation: date ranges, refreshes that pick up late announcements, the run report."""

from __future__ import annotations

import json
import math
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from arxiv_digest.render import shown_ids
from tests import corpus
from tests.conftest import Site
from tests.standins import FeedPaper, announced_at

HOLIDAY = date(2026, 3, 19)  # a Thursday: that evening's announcement moves to Sunday


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


def answer_anything(arxiv_id: str, task: str, request: dict[str, object]) -> str:
    return corpus.analysis_for(arxiv_id) if task == "analysis" else f"译文：{arxiv_id}"


def beijing_day(moment: datetime) -> date:
    """The post a submission belongs to: the window [D-1 08:50, D 08:50) Beijing (00:50 UTC)."""
    return (moment - timedelta(hours=0, minutes=50)).astimezone(UTC).date() + timedelta(days=1)


def posts(site: Site) -> dict[str, list[str]]:
    return {
        path.name[:10]: shown_ids(path.read_text(encoding="utf-8"))
        for path in sorted((site.root / "_posts").glob("*-arxiv.md"))
    }


def test_a_month_of_nightly_refreshes_loses_no_paper(site: Site) -> None:
    papers = month_of_papers()
    site.arxiv.papers = papers
    site.arxiv.holidays = frozenset({HOLIDAY})
    site.pdfs.pdfs = {paper.arxiv_id: corpus.paper_pdf(paper) for paper in papers}
    site.model.answerer = answer_anything
    first_night = datetime(2026, 3, 1, 1, 30, tzinfo=UTC)
    seen: dict[str, list[str]] = {}
    late = 0

    for night in range(31):
        now = first_night + timedelta(days=night)
        site.arxiv.now = now
        run = site.digest("build", "--refresh", env={"DIGEST_NOW": now.isoformat()})
        assert run.status == 0, run.stderr
        current = posts(site)
        for day, ids in seen.items():  # a rebuilt post never drops a paper
            assert set(ids) <= set(current[day]), day
        late += sum(
            len(set(ids) - set(seen.get(day, []))) for day, ids in current.items() if day in seen
        )
        seen = current

    # Every paper submitted in the windows of 2026-03-01 .. 2026-03-21 is in its own post:
    # the last night (31 March) refreshes ten windows back, beyond the holiday's deferral.
    expected: dict[str, list[str]] = {}
    for paper in papers:
        day = beijing_day(paper.published)
        if date(2026, 3, 1) <= day <= date(2026, 3, 21):
            expected.setdefault(day.isoformat(), []).append(paper.arxiv_id)
    for day, ids in expected.items():
        assert sorted(seen[day]) == sorted(ids), day
    assert late > 20  # many papers did arrive late, on a later night

    # Refreshing again the same night changes nothing and asks the model nothing.
    calls = len(site.model.calls)
    run = site.digest("build", "--refresh", env={"DIGEST_NOW": site.arxiv.now.isoformat()})
    assert run.status == 0, run.stderr
    assert len(site.model.calls) == calls
    assert "0 new" in run.stderr and "(written)" not in run.stderr


def test_a_late_paper_joins_its_post_and_costs_only_its_own_requests(site: Site) -> None:
    late = FeedPaper(
        arxiv_id="2602.20009v1",
        title="Announced Late",
        authors=["Slow Poke"],
        categories=["cs.SD"],
        abstract="Submitted on Thursday afternoon, US Eastern time.",
        published=corpus.at("2026-02-12T19:30:00"),
    )
    site.arxiv.papers.append(late)
    site.pdfs.pdfs[late.arxiv_id] = corpus.paper_pdf(late)
    site.model.answers[(late.arxiv_id, "translation")] = "迟到的论文。"
    site.model.answers[(late.arxiv_id, "analysis")] = corpus.analysis_for("Announced Late")
    morning = datetime(2026, 2, 13, 1, 30, tzinfo=UTC)
    assert announced_at(late.published) > morning
    site.arxiv.now = morning

    first = site.digest("build", "--date", corpus.DAY, env={"DIGEST_NOW": morning.isoformat()})
    assert first.status == 0, first.stderr
    # Thursday-afternoon (Eastern) submissions are announced on Sunday evening.
    assert shown_ids(site.post().read_text(encoding="utf-8")) == [
        "2602.20004v2", "2602.20003v1", "2602.20001v1",
    ]  # fmt: skip

    monday = morning + timedelta(days=3)
    site.arxiv.now = monday
    calls = len(site.model.calls)
    second = site.digest("build", "--refresh", "3", env={"DIGEST_NOW": monday.isoformat()})

    assert second.status == 0, second.stderr
    post = site.post().read_text(encoding="utf-8")
    assert shown_ids(post)[:3] == ["2602.20005v1", late.arxiv_id, "2602.20004v2"]
    assert "- 抓取总数：5 篇 | 本页显示：5 篇（去重/过滤后）" in post
    assert sorted(site.model.calls[calls:]) == sorted(
        (arxiv_id, task)
        for arxiv_id in ("2602.20005v1", late.arxiv_id, "2602.20002v1")
        for task in ("translation", "analysis")
    )


def test_the_cap_limits_only_papers_added_to_a_post(site: Site) -> None:
    site.write_config(filter={"max_papers": 2})
    site.digest("build", "--date", corpus.DAY)
    assert shown_ids(site.post().read_text(encoding="utf-8")) == ["2602.20005v1", "2602.20004v2"]

    site.write_config(filter={"max_papers": 3})
    site.digest("build", "--date", corpus.DAY)
    post = site.post().read_text(encoding="utf-8")
    assert shown_ids(post) == ["2602.20005v1", "2602.20004v2", "2602.20003v1"]
    assert "- 抓取总数：4 篇 | 本页显示：3 篇" in post

    # A paper the post shows stays even when the API does not return it this time.
    site.arxiv.papers = [p for p in site.arxiv.papers if p.arxiv_id != "2602.20004v2"]
    site.write_config(filter={"max_papers": 1})
    run = site.digest("build", "--date", corpus.DAY)
    assert run.status == 0, run.stderr
    assert shown_ids(site.post().read_text(encoding="utf-8")) == [
        "2602.20005v1", "2602.20004v2", "2602.20003v1",
    ]  # fmt: skip


def test_a_30_day_backfill_makes_one_request_per_result_page(site: Site) -> None:
    papers = month_of_papers()
    site.arxiv.papers = papers
    site.pdfs.pdfs = {paper.arxiv_id: corpus.paper_pdf(paper) for paper in papers}
    site.model.answerer = answer_anything
    site.write_config(arxiv={"page_size": 40})

    run = site.digest(
        "build", "--from", "2026-03-01", "--to", "2026-03-30", "--report", "report.json"
    )

    assert run.status == 0, run.stderr
    in_span = [
        p for p in papers if date(2026, 3, 1) <= beijing_day(p.published) <= date(2026, 3, 30)
    ]
    assert len(site.arxiv.queries) == math.ceil(len(in_span) / 40)
    assert len(posts(site)) == 30
    report = json.loads((site.root / "report.json").read_text(encoding="utf-8"))
    assert [day["date"] for day in report["days"]][:2] == ["2026-03-01", "2026-03-02"]
    assert sum(day["shown"] for day in report["days"]) == len(in_span)
    assert report["total"]["arxiv_requests"] == len(site.arxiv.queries)


def test_run_report_as_json_and_github_step_summary(site: Site, tmp_path: Path) -> None:
    site.pdfs.pdfs.pop("2602.20003v1")
    site.write_config(llm={"input_price_per_million": 0.5, "output_price_per_million": 2.0})
    summary = tmp_path / "step-summary.md"
    summary.write_text("earlier steps\n", encoding="utf-8")

    run = site.digest(
        "build", "--date", corpus.DAY, "--date", "2026-02-16", "--report", "out/report.json",
        env={"GITHUB_STEP_SUMMARY": str(summary)},
    )  # fmt: skip

    assert run.status == 3
    report = json.loads((site.root / "out" / "report.json").read_text(encoding="utf-8"))
    day, monday = report["days"]
    assert (day["date"], day["in_window"], day["new"], day["shown"]) == (corpus.DAY, 4, 4, 4)
    assert (day["complete"], day["incomplete"], day["model_requests"]) == (3, 1, 7)
    expected_cost = (day["tokens_in"] * 0.5 + day["tokens_out"] * 2.0) / 1e6
    assert day["cost_usd"] == round(expected_cost, 6) and day["cost_usd"] > 0
    assert day["missing"] == [
        {"arxiv_id": "2602.20003v1", "task": "analysis", "reason": "PDF download failed: HTTP 404"}
    ]
    assert monday["in_window"] == 0 and monday["flags"] == ["empty window on a weekday"]
    assert report["total"]["model_requests"] == 7
    markdown = summary.read_text(encoding="utf-8")
    assert markdown.startswith("earlier steps\n### arxiv-digest run\n")
    assert f"| {corpus.DAY} | 4 | 4 | 4 | 3 | 1 | 7 | 0 |" in markdown
    assert (
        "| 2026-02-16 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | $0.0000 | empty window on a weekday |"
        in markdown
    )
    assert "check: empty window on a weekday" in run.stderr
