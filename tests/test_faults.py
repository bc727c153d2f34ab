"""Faults of the model, the PDFs, the arXiv API and the process: nothing lost, nothing broken."""

from __future__ import annotations

import io
import signal
import sqlite3
import time
from pathlib import Path

import pypdf
import pytest

from tests import corpus
from tests.conftest import Site
from tests.standins import FeedPaper, Reply, completion_reply, make_pdf

GOLDEN = Path(__file__).parent / "golden" / f"{corpus.DAY}-arxiv.md"
KEY = ("2602.20005v1", "translation")


def test_model_timeouts_are_retried(site: Site) -> None:
    site.write_config(llm={"timeout_seconds": 0.5, "max_retries": 1})
    slow = corpus.model_answers()[KEY]
    site.model.faults[KEY] = [
        Reply(**vars(completion_reply("m", slow)) | {"delay_seconds": 2.0})
    ] * 2

    run = site.digest("build", "--date", corpus.DAY)

    assert run.status == 0, run.stderr
    assert "attempt 1 failed: timed out" in run.stderr
    assert site.model.calls.count(KEY) == 3
    assert site.post().read_bytes() == GOLDEN.read_bytes()


def test_malformed_and_foreign_answers_are_asked_again(site: Site) -> None:
    site.model.faults[KEY] = [
        Reply(200, b"<html>gateway hiccup</html>", "text/html"),
        completion_reply("m", "We model pauses explicitly when transferring prosody."),
    ]

    run = site.digest("build", "--date", corpus.DAY)

    assert run.status == 0, run.stderr
    assert "attempt 2 failed: the answer is not in Chinese" in run.stderr
    assert site.model.calls.count(KEY) == 3
    assert site.post().read_bytes() == GOLDEN.read_bytes()


def encrypted_pdf() -> bytes:
    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(io.BytesIO(make_pdf([["secret"]]))))
    writer.encrypt(user_password="user", owner_password="owner", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_encrypted_and_huge_pdfs(site: Site) -> None:
    site.pdfs.pdfs["2602.20005v1"] = encrypted_pdf()
    pages = [[f"Page {n} of a very long thesis, method and results."] * 5 for n in range(1, 201)]
    site.pdfs.pdfs["2602.20004v2"] = make_pdf(pages)
    site.write_config(pdf={"max_pages": 30})

    started = time.monotonic()
    run = site.digest("build", "--date", corpus.DAY)

    assert time.monotonic() - started < 60
    assert run.status == 3
    assert "missing 2602.20005v1 analysis: the PDF is encrypted" in run.stderr
    assert run.stderr.count("\n  missing ") == 1
    with sqlite3.connect(site.root / ".digest-cache.sqlite3") as db:
        text, page_count = db.execute(
            "SELECT text, page_count FROM texts WHERE arxiv_id = '2602.20004v2'"
        ).fetchone()
    assert page_count == 200
    assert "Page 30 of" in text and "Page 31 of" not in text


@pytest.mark.parametrize("stream", [False, True])
def test_sigint_leaves_no_post_and_a_rerun_resumes(site: Site, stream: bool) -> None:
    site.write_config(llm={"stream": stream})
    site.model.answerer = corpus.slow_analyses(20)
    process = site.start_digest("build", "--date", corpus.DAY)
    deadline = time.monotonic() + 30
    while (
        time.monotonic() < deadline
        and sum(1 for _, task in site.model.calls if task == "analysis") < 4
    ):
        time.sleep(0.1)
    time.sleep(0.3)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=30)

    assert process.returncode == 130, stderr
    assert "Interrupted; nothing half-written" in stderr
    assert not site.post().exists()
    assert not list((site.root).glob("_posts/.*.tmp"))

    site.model.answerer = None
    calls = len(site.model.calls)
    rerun = site.digest("build", "--date", corpus.DAY)
    assert rerun.status == 0, rerun.stderr
    assert {task for _, task in site.model.calls[calls:]} == {"analysis"}
    assert site.post().read_bytes() == GOLDEN.read_bytes()


def test_two_runs_at_once_share_the_cache_safely(site: Site) -> None:
    site.model.latency_seconds = 0.2
    first = site.start_digest("build", "--date", corpus.DAY)
    second = site.start_digest("build", "--date", corpus.DAY)
    outputs = [first.communicate(timeout=120), second.communicate(timeout=120)]

    assert first.returncode == 0 and second.returncode == 0, outputs
    assert site.post().read_bytes() == GOLDEN.read_bytes()
    with sqlite3.connect(site.root / ".digest-cache.sqlite3") as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert db.execute("SELECT count(*) FROM answers").fetchone() == (8,)


def test_an_arxiv_outage_never_replaces_a_post(site: Site) -> None:
    site.digest_ok("build", "--date", corpus.DAY)
    before = site.post().read_bytes()
    site.write_config(arxiv={"wait_budget_seconds": 0.5})
    site.arxiv.faults = [Reply(503, b"down", "text/plain")] * 100
    site.arxiv.oai_faults = [Reply(503, b"down", "text/plain")] * 100

    run = site.digest("build", "--date", corpus.DAY)

    assert run.status == 1
    last = run.stderr.strip().splitlines()[-1]
    assert last.startswith("Error: arXiv API: HTTP 503, and waiting")
    assert (
        "budget (arxiv.wait_budget_seconds); try again later; then arXiv OAI-PMH: HTTP 503" in last
    )
    assert site.post().read_bytes() == before


def test_a_quiet_api_never_empties_a_post(site: Site) -> None:
    site.digest_ok("build", "--date", corpus.DAY)
    before = site.post().read_bytes()
    site.arxiv.papers = []  # arXiv answers, with nothing, twice

    run = site.digest("build", "--date", corpus.DAY)

    assert run.status == 0, run.stderr
    assert site.post().read_bytes() == before


def test_a_posts_directory_that_cannot_exist_is_refused_before_any_request(site: Site) -> None:
    (site.root / "blocked").write_text("a file, not a directory", encoding="utf-8")
    site.write_config(output={"posts_dir": "blocked/_posts"})

    run = site.digest("build", "--date", corpus.DAY)

    assert run.status == 2
    assert run.stderr.strip().splitlines() == [
        f"Error: {site.root}/blocked/_posts: cannot be created, {site.root}/blocked is not a"
        " directory; set output.posts_dir"
    ]
    assert site.arxiv.requests == [] and site.model.requests == []


def test_a_paper_with_an_impossible_id_is_not_published(site: Site) -> None:
    site.arxiv.papers.append(
        FeedPaper(
            arxiv_id="2602.99999v1)](javascript:alert(1)",
            title="Forged Id",
            authors=["X"],
            categories=["cs.SD"],
            abstract="x",
            published=corpus.at("2026-02-13T00:45:00"),
        )
    )

    run = site.digest("build", "--date", corpus.DAY)

    assert run.status == 0, run.stderr
    assert "javascript" not in site.post().read_text(encoding="utf-8")
    assert "skipped an entry with an invalid arXiv id" in run.stderr
