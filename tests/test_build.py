"""`digest build` end to end: the installed command against the local stand-ins."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from arxiv_digest.answers import enrich
from arxiv_digest.answers.cache import AnswerKey, Store
from arxiv_digest.answers.tasks import AnswerError
from tests import corpus
from tests.conftest import API_KEY, Site
from tests.inprocess import Bench
from tests.standins import FeedPaper, error_reply

GOLDEN = Path(__file__).parent / "golden"


def shown_ids(post: str) -> list[str]:
    return [
        line.split("/abs/")[1].split("]")[0] for line in post.splitlines() if "**arXiv**" in line
    ]


def test_record_and_post_match_golden_files(site: Site) -> None:
    run = site.digest("build", "--date", corpus.DAY)

    assert run.status == 0, run.stderr
    record = site.root / "_records" / f"{corpus.DAY}.json"
    for written, expected in [
        (site.post(), GOLDEN / f"{corpus.DAY}-arxiv.md"),
        (record, GOLDEN / f"{corpus.DAY}.json"),
    ]:
        if os.environ.get("DIGEST_REGENERATE_GOLDEN"):
            expected.write_bytes(written.read_bytes())
        assert written.read_bytes() == expected.read_bytes(), expected.name
    assert run.stdout.strip() == str(site.post())


def test_window_is_half_open_at_the_anchor(site: Site) -> None:
    site.digest_ok("build", "--date", corpus.DAY)

    post = site.post().read_text(encoding="utf-8")
    # 00:49:59Z and 00:50:00Z (the opening anchor) are in; 00:50:00Z next day and 00:49Z are not.
    assert shown_ids(post) == ["2602.20005v1", "2602.20004v2", "2602.20003v1", "2602.20001v1"]
    query = site.arxiv.queries[0]["search_query"]
    assert query == "(cat:cs.SD OR cat:eess.AS) AND submittedDate:[202602120050 TO 202602130050]"


def test_rerun_asks_nothing_and_writes_the_same_bytes(site: Site) -> None:
    site.digest_ok("build", "--date", corpus.DAY)
    first = site.post().read_bytes()
    calls, downloads = len(site.model.calls), site.pdfs.downloads

    run = site.digest("build", "--date", corpus.DAY)

    assert run.status == 0, run.stderr
    assert len(site.model.calls) == calls
    assert site.pdfs.downloads == downloads
    assert site.post().read_bytes() == first
    # The day's record answers: not even the cache is asked.
    assert "Model: 0 requests, 0 cache hits" in run.stderr
    assert "(unchanged)" in run.stderr


def busy_day(count: int) -> list[FeedPaper]:
    """`count` papers spread over the window of corpus.DAY, one a minute."""
    closing = corpus.at("2026-02-13T00:50:00")
    return [
        FeedPaper(
            arxiv_id=f"2602.3{number:04d}v1",
            title=f"Busy Day Paper {number}",
            authors=["Author One", "Author Two"],
            categories=["cs.SD"] if number % 2 else ["eess.AS", "cs.SD"],
            abstract=f"Abstract {number}.",
            published=closing - timedelta(minutes=number + 1),
        )
        for number in range(count)
    ]


def test_busy_day_pages_through_everything_and_caps_the_post(site: Site) -> None:
    papers = busy_day(45)
    site.arxiv.papers = papers
    site.pdfs.pdfs = {paper.arxiv_id: corpus.paper_pdf(paper) for paper in papers}
    # A faithful translation keeps its abstract's number ("Abstract 12." → "摘要 12。").
    site.model.answerer = lambda arxiv_id, task, request: (
        corpus.analysis_for(arxiv_id) if task == "analysis" else f"摘要 {int(arxiv_id[6:10])}。"
    )
    site.write_config(arxiv={"page_size": 10})

    run = site.digest("build", "--date", corpus.DAY)

    assert run.status == 0, run.stderr
    assert [query["start"] for query in site.arxiv.queries] == ["0", "10", "20", "30", "40"]
    post = site.post().read_text(encoding="utf-8")
    assert "- 抓取总数：45 篇 \\| 本页显示：20 篇（去重/过滤后）" in post
    newest = [paper.arxiv_id for paper in papers[:20]]
    assert shown_ids(post) == newest
    # No model request for a paper that is not shown.
    assert sorted(site.model.calls) == sorted(
        (arxiv_id, task) for arxiv_id in newest for task in ("translation", "analysis")
    )


def test_missing_pdf_costs_only_the_analysis_and_a_rerun_fills_the_gap(site: Site) -> None:
    pdf = site.pdfs.pdfs.pop("2602.20004v2")

    run = site.digest("build", "--date", corpus.DAY)

    assert run.status == 3
    assert "missing 2602.20004v2 analysis: PDF download failed: HTTP 404" in run.stderr
    post = site.post().read_text(encoding="utf-8")
    block = post.split("## Sparse Codebooks")[1].split("\n---\n")[0]
    assert corpus.TRANSLATIONS["2602.20004v2"] in block
    assert "<details>" not in block
    assert post.count("<details>") == 3

    site.pdfs.pdfs["2602.20004v2"] = pdf
    calls = len(site.model.calls)
    rerun = site.digest("build", "--date", corpus.DAY)

    assert rerun.status == 0, rerun.stderr
    assert site.model.calls[calls:] == [("2602.20004v2", "analysis")]
    assert site.post().read_bytes() == (GOLDEN / f"{corpus.DAY}-arxiv.md").read_bytes()


def test_rate_limits_and_server_errors_are_retried(site: Site) -> None:
    site.model.faults[("2602.20005v1", "translation")] = [
        error_reply(429, "slow down", retry_after="0.1"),
        error_reply(503),
    ]
    site.write_config(llm={"max_retries": 2})

    run = site.digest("build", "--date", corpus.DAY)

    assert run.status == 0, run.stderr
    assert site.model.calls.count(("2602.20005v1", "translation")) == 3


def test_empty_window_writes_nothing(site: Site) -> None:
    run = site.digest("build", "--date", "2026-01-01")

    assert run.status == 0, run.stderr
    assert "no papers to show; only the record is written" in run.stderr
    assert not (site.root / "_posts").exists()
    record = json.loads((site.root / "_records" / "2026-01-01.json").read_text(encoding="utf-8"))
    assert (record["in_window"], record["papers"], record["not_shown"]) == (0, [], [])
    assert site.model.calls == []
    # An empty first page is asked again before it is believed.
    assert len(site.arxiv.queries) == 2


def test_api_key_is_sent_but_never_stored_or_printed(site: Site) -> None:
    site.model.faults[("2602.20005v1", "translation")] = [error_reply(400, f"bad key {API_KEY}")]
    site.write_config(llm={"max_attempts": 1})

    summary = site.root / "step-summary.md"
    run = site.digest(
        "build", "--date", corpus.DAY, "--debug", "--report", "report.json",
        env={"GITHUB_STEP_SUMMARY": str(summary)},
    )  # fmt: skip

    assert run.status == 3, run.stderr  # the translation is a gap; the rest is written
    assert site.model.authorizations == {f"Bearer {API_KEY}"}
    assert "bad key [redacted]" in (site.root / "report.json").read_text(encoding="utf-8")
    assert summary.exists()
    assert API_KEY not in run.stdout + run.stderr
    for path in site.root.rglob("*"):
        if path.is_file():
            assert API_KEY.encode() not in path.read_bytes(), path


def test_cache_lives_where_configured(site: Site, tmp_path: Path) -> None:
    site.write_config(cache={"path": "state/answers.sqlite3"})

    site.digest_ok("build", "--date", corpus.DAY)

    with sqlite3.connect(site.root / "state" / "answers.sqlite3") as db:
        tasks = db.execute("SELECT task, count(*) FROM answers GROUP BY task ORDER BY task")
        assert tasks.fetchall() == [("analysis", 4), ("translation", 4)]


def test_a_killed_run_resumes_from_the_cache(site: Site) -> None:
    site.model.answerer = corpus.slow_analyses(30)
    process = site.start_digest("build", "--date", corpus.DAY)
    cache = site.root / ".digest-cache.sqlite3"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and _cached_translations(cache) < 4:
        time.sleep(0.1)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert _cached_translations(cache) == 4
    assert not site.post().exists()

    site.model.answerer = None
    calls = len(site.model.calls)
    rerun = site.digest("build", "--date", corpus.DAY)

    assert rerun.status == 0, rerun.stderr
    assert sorted(site.model.calls[calls:]) == sorted(
        (paper.arxiv_id, "analysis") for paper in corpus.PAPERS[:4]
    )
    assert site.post().read_bytes() == (GOLDEN / f"{corpus.DAY}-arxiv.md").read_bytes()


def test_broken_pdfs_cost_only_their_analysis(site: Site) -> None:
    site.pdfs.pdfs["2602.20005v1"] = b"<html>Just a moment...</html>"
    site.pdfs.pdfs["2602.20004v2"] = b"%PDF-1.7\n this is not really a PDF \n%%EOF"

    run = site.digest("build", "--date", corpus.DAY)

    assert run.status == 3
    assert "missing 2602.20005v1 analysis: the download is not a PDF" in run.stderr
    assert "missing 2602.20004v2 analysis: the PDF is corrupt or unreadable" in run.stderr
    assert site.post().read_text(encoding="utf-8").count("<details>") == 2


def _cached_translations(cache: Path) -> int:
    if not cache.exists():
        return 0
    try:
        with sqlite3.connect(cache) as db:
            return int(
                db.execute("SELECT count(*) FROM answers WHERE task = 'translation'").fetchone()[0]
            )
    except sqlite3.OperationalError:  # the tables are not there yet
        return 0


# In-process through the seams (tests/inprocess.py): selection and answer handling.


def test_paper_at_the_anchor_opens_the_next_days_post(tmp_path: Path) -> None:
    bench = Bench.of(tmp_path)
    bench.build("2026-02-14")
    assert bench.shown("2026-02-14") == ["2602.20002v1"]


def test_max_papers_and_include_keywords(tmp_path: Path) -> None:
    bench = Bench.of(tmp_path)
    bench.configure(filter={"max_papers": 1, "include_keywords": ["CODEC", "meetings"]})

    bench.build(corpus.DAY)

    assert bench.shown() == ["2602.20004v2"]
    assert "- 抓取总数：4 篇 \\| 本页显示：1 篇" in bench.post().read_text(encoding="utf-8")
    assert [(left.paper.arxiv_id, left.reason) for left in bench.record().not_shown] == [
        ("2602.20005v1", "filter.include_keywords"),
        ("2602.20003v1", "filter.include_keywords"),
        ("2602.20001v1", "filter.max_papers"),
    ]


def test_exclude_keywords_match_title_and_abstract_in_any_case(tmp_path: Path) -> None:
    bench = Bench.of(tmp_path)
    bench.configure(filter={"exclude_keywords": ["mamba", "PROSODY"]})
    bench.build(corpus.DAY)
    assert bench.shown() == ["2602.20004v2", "2602.20001v1"]


def test_primary_only_keeps_papers_whose_primary_category_is_configured(tmp_path: Path) -> None:
    bench = Bench.of(tmp_path)
    bench.configure(filter={"primary_only": True})
    bench.build(corpus.DAY)
    # 2602.20001v1 is cross-listed to cs.SD from cs.CL.
    assert bench.shown() == ["2602.20005v1", "2602.20004v2", "2602.20003v1"]
    assert [left.reason for left in bench.record().not_shown] == ["filter.primary_only"]


def test_invalid_analysis_is_asked_again(tmp_path: Path) -> None:
    bench = Bench.of(tmp_path)
    scripted = ["1) 只有第一部分。", ""]
    answers = corpus.model_answers()
    bench.model.answerer = lambda arxiv_id, task: (
        scripted.pop(0) if (arxiv_id, task) == ("2602.20003v1", "analysis") and scripted
        else answers[(arxiv_id, task)]
    )  # fmt: skip

    report = bench.build(corpus.DAY)

    assert not report.incomplete
    assert bench.model.calls.count(("2602.20003v1", "analysis")) == 3
    assert (
        "2026-02-13 2602.20003v1 analysis: attempt 1 failed: the analysis lacks part 2)"
        in bench.messages
    )
    assert "2026-02-13 2602.20003v1 analysis: attempt 2 failed: empty answer" in bench.messages


def test_failed_translation_keeps_the_paper_with_its_abstract(tmp_path: Path) -> None:
    bench = Bench.of(tmp_path)
    bench.configure(llm={"max_attempts": 2})
    answers = corpus.model_answers()
    bench.model.answerer = lambda arxiv_id, task: (
        AnswerError("HTTP 400: refused") if (arxiv_id, task) == ("2602.20003v1", "translation")
        else answers[(arxiv_id, task)]
    )  # fmt: skip

    report = bench.build(corpus.DAY)

    assert [(gap.arxiv_id, gap.task, gap.reason) for gap in report.days[0].gaps] == [
        ("2602.20003v1", "translation", "HTTP 400: refused after 2 attempts")
    ]
    block = bench.post().read_text(encoding="utf-8").split("## Listening in Rooms")[1]
    block = block.split("\n---\n")[0]
    assert "A Mamba encoder estimates T60 from single-channel speech without a reference." in block
    assert "400" not in block
    assert "<details>" in block


def test_each_answer_renders_its_prompt_once_and_asks_the_cache_once(tmp_path: Path) -> None:
    bench = Bench.of(tmp_path)
    bench.configure(triage={"enabled": True})
    rendered: list[tuple[str, str]] = []
    looked_up: list[str] = []
    render_prompt = enrich.render_prompt
    answer = Store.answer

    def counting_render(environment: Any, name: str, paper: Any, *args: Any, **kw: Any) -> Any:
        rendered.append((paper.arxiv_id, name))
        return render_prompt(environment, name, paper, *args, **kw)

    def counting_answer(store: Store, key: AnswerKey) -> Any:
        looked_up.append(f"{key.arxiv_id} {key.task}")
        return answer(store, key)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(enrich, "render_prompt", counting_render)
        patch.setattr(Store, "answer", counting_answer)
        bench.build(corpus.DAY)
    # The estimate before the run and the requests share each prompt and each look-up.
    assert len(bench.model.calls) == len(rendered) == len(set(rendered)) == 12
    assert len(looked_up) == len(set(looked_up)) == 12
