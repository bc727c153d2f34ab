"""Batch mode end to end through the installed `digest`, against the stand-in's Batch API:
a night sends one batch and a later run collects it, into the same record and post that
direct requests make; what a batch does not answer is asked directly; a batch is never sent
twice, whatever kills a run between sending and collecting."""

from __future__ import annotations

import asyncio
import json
import signal
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from arxiv_digest.answers.batch import custom_id
from arxiv_digest.answers.cache import AnswerKey
from arxiv_digest.answers.client import OpenAIBatches, OpenAIChatModel, batch_results
from arxiv_digest.answers.executor import Completion, TransientError
from arxiv_digest.answers.tasks import AnswerError
from arxiv_digest.config import LlmSettings
from arxiv_digest.models import Usage
from arxiv_digest.report import cost_usd
from tests import corpus
from tests.conftest import API_KEY, Site
from tests.inprocess import Batches, Bench
from tests.standins import EXPIRED_MESSAGE, completion_reply
from tests.test_figures import PLOT, WITH_FIGURE
from tests.test_site import SCREENSHOTS, launched_chromium, serving

GOLDEN = Path(__file__).parent / "golden"
NEEDS = 8
"""The day shows 4 papers, each with a translation and an analysis to ask for."""


def record(site: Site) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(
        (site.root / "_records" / f"{corpus.DAY}.json").read_text(encoding="utf-8")
    )
    return loaded


def pending(site: Site) -> dict[str, dict[str, str]]:
    return {shown["paper"]["arxiv_id"]: shown["pending"] for shown in record(site)["papers"]}


def as_direct_requests_make_them(site: Site) -> None:
    """The day's record and post are byte for byte those of a direct build (the goldens)."""
    assert site.post().read_bytes() == (GOLDEN / f"{corpus.DAY}-arxiv.md").read_bytes()
    written = site.root / "_records" / f"{corpus.DAY}.json"
    assert written.read_bytes() == (GOLDEN / f"{corpus.DAY}.json").read_bytes()


def wait_for(condition: Any, timeout_seconds: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_a_night_sends_one_batch_and_the_next_run_collects_it(site: Site) -> None:
    site.write_config(llm={"mode": "batch"})

    sent = site.digest("build", "--date", corpus.DAY, "--report", "report.json")

    assert sent.status == 0, sent.stderr
    assert site.model.calls == [] and len(site.model.batch_api.batches) == 1
    assert "batch_1: 8 requests sent" in sent.stderr
    waiting = pending(site)
    assert all(
        tasks == {"translation": "batch_1", "analysis": "batch_1"} for tasks in waiting.values()
    )
    assert len(waiting) == 4
    assert "waiting in batch batch_1: 8 answers; a later run collects them" in sent.stderr
    report = json.loads((site.root / "report.json").read_text(encoding="utf-8"))
    assert len(report["days"][0]["pending"]) == NEEDS and report["days"][0]["missing"] == []
    # The batch's input is what direct requests send, a JSONL line each.
    batch = site.model.batch_api.batches["batch_1"]
    lines = [
        json.loads(line) for line in site.model.batch_api.files[batch.input_file_id].splitlines()
    ]
    assert {line["url"] for line in lines} == {"/v1/chat/completions"}
    assert all(
        line["body"]["model"] == "standin-model" and "stream" not in line["body"] for line in lines
    )

    still = site.digest("build", "--date", corpus.DAY)  # the batch is still running
    assert still.status == 0, still.stderr
    assert len(site.model.batch_api.batches) == 1 and site.model.calls == []
    assert pending(site) == waiting

    site.model.batch_api.advance()
    collected = site.digest("build", "--date", corpus.DAY, "--report", "report.json")

    assert collected.status == 0, collected.stderr
    assert "batch batch_1 completed: collected" in collected.stderr
    assert site.model.calls == [] and len(site.model.batch_api.batches) == 1
    assert len(site.model.batch_calls) == NEEDS
    as_direct_requests_make_them(site)
    report = json.loads((site.root / "report.json").read_text(encoding="utf-8"))
    assert report["total"]["batched_requests"] == NEEDS
    assert "Batch: 8 answers collected" in collected.stderr

    again = site.digest("build", "--date", corpus.DAY)
    assert again.status == 0 and "batch_1" not in again.stderr
    assert len(site.model.batch_api.batches) == 1 and site.model.calls == []
    # The key went to the provider, and into no file of the site (cache, records, report).
    assert site.model.authorizations == {f"Bearer {API_KEY}"}
    written = [path for path in site.root.rglob("*") if path.is_file()]
    assert written and not [path for path in written if API_KEY.encode() in path.read_bytes()]


def test_a_day_from_html_with_a_figure_in_batch_mode(site: Site) -> None:
    """The whole of issue 23's night: one paper's text from its HTML version (its figure made
    a WebP), the others' from their PDFs, the answers by batch; then the site."""
    site.pdfs.htmls["2602.20005v1"] = WITH_FIGURE
    site.pdfs.images["/html/2602.20005v1/x1.png"] = (PLOT, "image/png")
    site.write_config(llm={"mode": "batch"})
    site.digest_ok("build", "--date", corpus.DAY)
    assert record(site)["papers"][0]["figure"]["file"] == "2602.20005.webp"
    site.model.batch_api.advance()

    site.digest_ok("build", "--date", corpus.DAY)

    papers = {shown["paper"]["arxiv_id"]: shown for shown in record(site)["papers"]}
    sources = {
        arxiv_id: shown["answers"]["analysis"]["source"] for arxiv_id, shown in papers.items()
    }
    assert sources == {"2602.20005v1": "html", "2602.20004v2": "pdf", "2602.20003v1": "pdf",
                       "2602.20001v1": "pdf"}  # fmt: skip
    assert all(not shown["pending"] for shown in papers.values())
    assert site.model.calls == [] and len(site.model.batch_calls) == NEEDS
    # The batch's analysis request carried the HTML's sections, not the PDF's text.
    html_request = next(
        line for line in site.model.batch_api.files["file-1"].decode().splitlines()
        if "2602.20005v1/analysis" in line
    )  # fmt: skip
    assert "The encoder: state-space layers modulated by the reverberation" in html_request

    site.digest_ok("site", "--no-search")
    with serving(site.root / "_public", "") as url, launched_chromium() as chromium:
        page = chromium.new_page(viewport={"width": 1280, "height": 900})
        page.goto(f"{url}/papers/2602.20005/")
        figure = page.locator("main img").first
        assert figure.get_attribute("src") == "/figures/2602.20005.webp"
        assert figure.evaluate("image => image.naturalWidth") == 960
        assert "详细解读" in page.inner_text("main") and "已批量提交" not in page.inner_text("main")
        page.screenshot(path=str(SCREENSHOTS / "batch-html-paper-1280.png"), full_page=True)
        page.goto(f"{url}/2026/02/13/arxiv/")
        assert page.locator('img[src="/figures/2602.20005.webp"]').count() == 1
        page.screenshot(path=str(SCREENSHOTS / "batch-html-day-1280.png"), full_page=True)
        # The thumbnail never covers its entry's box: beside it closed, above it open.
        thumb = page.locator("a.thumb").bounding_box()
        more = page.locator("details.more").first
        closed = more.bounding_box()
        assert thumb and closed and closed["x"] + closed["width"] <= thumb["x"]
        more.locator("summary").click()
        opened = more.bounding_box()
        assert opened and opened["y"] >= thumb["y"] + thumb["height"]
        assert opened["width"] > closed["width"]


def test_the_day_s_pages_say_what_is_waiting_in_a_batch(site: Site) -> None:
    site.write_config(llm={"mode": "batch"})
    site.digest_ok("build", "--date", corpus.DAY)

    site.digest_ok("site", "--no-search")

    # What a reader sees, in Chromium: the day says it, and each paper's page says which,
    # wide and narrow, light and dark.
    SCREENSHOTS.mkdir(exist_ok=True)
    with serving(site.root / "_public", "") as url, launched_chromium() as chromium:
        for width, scheme in ((1280, "light"), (1280, "dark"), (390, "light"), (390, "dark")):
            context = chromium.new_context(
                viewport={"width": width, "height": 900}, color_scheme=scheme
            )
            page = context.new_page()
            page.goto(f"{url}/2026/02/13/arxiv/")
            assert "其中 4 篇的译文或解读已批量提交给模型，下次构建时取回。" in page.inner_text(
                "article.day header"
            )
            page.locator("details.more").first.click()
            assert page.evaluate("document.documentElement.scrollWidth - innerWidth") <= 0
            pages = [("day", page.screenshot(full_page=True))]
            page.goto(f"{url}/papers/2602.20005/")
            shown = page.inner_text("main")
            assert "中文译文已批量提交给模型，下次构建时取回；请先读英文摘要。" in shown
            assert "详细解读已批量提交给模型，下次构建时取回。" in shown
            assert "暂缺" not in shown
            pages.append(("paper", page.screenshot(full_page=True)))
            assert page.evaluate("document.documentElement.scrollWidth - innerWidth") <= 0
            for name, image in pages:
                (SCREENSHOTS / f"batch-{name}-{width}-{scheme}.png").write_bytes(image)
            context.close()


def test_what_an_expired_batch_did_not_answer_is_asked_directly(site: Site) -> None:
    site.write_config(llm={"mode": "batch"})
    site.digest_ok("build", "--date", corpus.DAY)
    site.model.batch_api.expire(answered=3)

    collected = site.digest("build", "--date", corpus.DAY)

    assert collected.status == 0, collected.stderr
    assert len(site.model.batch_calls) == 3 and len(site.model.calls) == NEEDS - 3
    assert "batch batch_1 expired: collected" in collected.stderr
    assert (
        collected.stderr.count(
            ": the batch did not answer it (batch_expired: This request could not be executed"
            " before the completion window expired); asking directly"
        )
        == 5
    )
    assert len(site.model.batch_api.batches) == 1  # nothing sent again as a batch
    as_direct_requests_make_them(site)


def test_a_cancelled_batch_is_waited_for_then_asked_directly(site: Site) -> None:
    """Cancelled by its owner (the provider's dashboard): `cancelling` is still pending;
    `cancelled` answers what it ran, and the rest is asked directly."""
    site.write_config(llm={"mode": "batch"})
    site.digest_ok("build", "--date", corpus.DAY)
    cancel = urllib.request.Request(f"{site.model.url}/v1/batches/batch_1/cancel", method="POST")
    direct = urllib.request.build_opener(
        urllib.request.ProxyHandler({})
    )  # no proxy of the machine's
    with direct.open(cancel, timeout=5) as answer:
        assert json.load(answer)["status"] == "cancelling"

    still = site.digest("build", "--date", corpus.DAY)
    assert still.status == 0 and site.model.calls == []
    assert set(pending(site)["2602.20005v1"].values()) == {"batch_1"}

    site.model.batch_api.cancelled(answered=2)
    collected = site.digest("build", "--date", corpus.DAY)

    assert collected.status == 0, collected.stderr
    assert "batch batch_1 cancelled: collected" in collected.stderr
    assert collected.stderr.count("(batch_cancelled: This request was cancelled)") == NEEDS - 2
    assert len(site.model.batch_calls) == 2 and len(site.model.calls) == NEEDS - 2
    as_direct_requests_make_them(site)


def test_a_failed_batch_is_asked_directly(site: Site) -> None:
    """A batch whose input the provider refused to run: `failed`, with its errors."""
    site.write_config(llm={"mode": "batch"})
    site.digest_ok("build", "--date", corpus.DAY)
    site.model.batch_api.fail()

    collected = site.digest("build", "--date", corpus.DAY)

    assert collected.status == 0, collected.stderr
    assert site.model.batch_calls == [] and len(site.model.calls) == NEEDS
    assert (
        "2602.20005v1 translation: batch batch_1 failed (invalid_request: the input did not"
        " validate); asking directly" in collected.stderr
    )
    assert len(site.model.batch_api.batches) == 1  # nothing sent again as a batch
    as_direct_requests_make_them(site)


def test_a_run_killed_while_sending_its_batch_never_sends_it_twice(site: Site) -> None:
    """Killed after the provider made the batch and before the run heard its id."""
    site.write_config(llm={"mode": "batch"})
    site.model.batch_api.create_delay_seconds = 30
    process = site.start_digest("build", "--date", corpus.DAY)
    wait_for(lambda: site.model.batch_api.batches)
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=10)
    site.model.batch_api.create_delay_seconds = 0
    assert not (site.root / "_records" / f"{corpus.DAY}.json").exists()

    resumed = site.digest("build", "--date", corpus.DAY)

    assert resumed.status == 0, resumed.stderr
    assert "batch batch_1: sent by an interrupted run" in resumed.stderr
    assert len(site.model.batch_api.batches) == 1 and site.model.calls == []
    assert set(pending(site)["2602.20005v1"].values()) == {"batch_1"}
    site.model.batch_api.advance()
    site.digest_ok("build", "--date", corpus.DAY)
    assert len(site.model.batch_api.batches) == 1 and site.model.calls == []
    as_direct_requests_make_them(site)


def test_a_run_killed_while_waiting_loses_nothing(site: Site) -> None:
    """Killed after sending, before any record named the batch: the cache knows it."""
    site.write_config(llm={"mode": "batch", "batch_poll_seconds": 0.05})
    process = site.start_digest("build", "--date", corpus.DAY, "--wait", "10")
    wait_for(
        lambda: (
            site.model.batch_api.batches and "batches/batch_1" in str(site.model.requests[-1][1])
        )
    )
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=10)
    assert not (site.root / "_records" / f"{corpus.DAY}.json").exists()

    resumed = site.digest("build", "--date", corpus.DAY)

    assert resumed.status == 0, resumed.stderr
    assert len(site.model.batch_api.batches) == 1 and site.model.calls == []
    assert set(pending(site)["2602.20003v1"].values()) == {"batch_1"}
    site.model.batch_api.advance()
    site.digest_ok("build", "--date", corpus.DAY)
    assert len(site.model.batch_api.batches) == 1 and site.model.calls == []
    as_direct_requests_make_them(site)


def test_a_provider_without_a_batch_api_is_named_in_one_line(site: Site) -> None:
    site.write_config(llm={"mode": "batch"})
    site.model.batch_api.absent = True

    run = site.digest("build", "--date", corpus.DAY)

    assert run.status == 1
    assert run.stderr.strip().splitlines()[-1] == (
        f"Error: the model endpoint {site.model.url}/v1 offers no Batch API (HTTP 404 while"
        " uploading the batch's requests); set llm.mode: direct"
    )
    assert not (site.root / "_records" / f"{corpus.DAY}.json").exists()


# In process, through the seams (tests/inprocess.py): the Batch API as a list.


def direct_and_batched(tmp_path: Path, now: datetime | None = None) -> tuple[Bench, Bench, Batches]:
    """The same day built with direct requests (at `now`), and a bench to build it in batch
    mode."""
    for name in ("direct", "batched"):
        (tmp_path / name).mkdir()
    direct = Bench.of(tmp_path / "direct")
    direct.build(corpus.DAY, now=now)
    batched = Bench.of(tmp_path / "batched")
    return direct, batched, Batches(batched.model)


def same_as(direct: Bench, batched: Bench) -> None:
    assert batched.record_path().read_bytes() == direct.record_path().read_bytes()
    assert batched.post().read_bytes() == direct.post().read_bytes()


def test_a_request_the_batch_failed_and_a_retry_go_direct(tmp_path: Path) -> None:
    direct, bench, batches = direct_and_batched(tmp_path)
    bench.model.answers[("2602.20004v2", "translation")] = "An English answer, not Chinese."
    bench.model.answerer = lambda arxiv_id, task: (
        TransientError("HTTP 400") if (arxiv_id, task) == ("2602.20005v1", "translation")
        else bench.model.answers[(arxiv_id, task)]
    )  # fmt: skip
    bench.build(corpus.DAY, batches=batches)
    asyncio.run(batches.finish())
    bench.model.answerer = None
    bench.model.calls.clear()
    bench.model.answers = corpus.model_answers()

    report = bench.build(corpus.DAY, batches=batches)

    assert sorted(bench.model.calls) == [
        ("2602.20004v2", "translation"),  # the batch's answer was not Chinese: asked again
        ("2602.20005v1", "translation"),  # the batch's request failed
    ]
    assert report.usage.batched_requests == NEEDS - 1
    same_as(direct, bench)


def test_waiting_collects_the_batch_in_the_same_run(tmp_path: Path) -> None:
    direct, bench, batches = direct_and_batched(tmp_path)
    batches.finish_on_read = True

    report = bench.build(corpus.DAY, batches=batches, wait_seconds=60)

    assert bench.model.calls and report.usage.batched_requests == NEEDS
    assert len(batches.batches) == 1 and "batch batch_1 completed: collected" in bench.messages
    assert not report.days[0].pending
    same_as(direct, bench)


def test_the_next_nightly_refresh_collects_a_settled_day_s_batch(tmp_path: Path) -> None:
    later = datetime(2026, 3, 10, tzinfo=UTC)  # the day is settled by age
    direct, bench, batches = direct_and_batched(tmp_path, later)
    bench.build(corpus.DAY, batches=batches, now=later)
    assert bench.record().settled and bench.record().papers[0].pending
    asyncio.run(batches.finish())

    bench.build("2026-02-14", refresh="unsettled", batches=batches, now=later)

    same_as(direct, bench)


def test_collecting_a_batch_is_not_held_back_by_a_cap_on_requests(tmp_path: Path) -> None:
    direct, bench, batches = direct_and_batched(tmp_path)
    bench.build(corpus.DAY, batches=batches)
    asyncio.run(batches.finish())

    report = bench.build(corpus.DAY, batches=batches, max_requests=0)

    assert report.usage.batched_requests == NEEDS and not report.incomplete
    same_as(direct, bench)


def test_direct_mode_asks_what_waits_in_a_batch_within_its_cap(tmp_path: Path) -> None:
    """Back in direct mode, an answer a batch was sent for is a request like any other."""
    _, bench, batches = direct_and_batched(tmp_path)
    bench.build(corpus.DAY, batches=batches)

    report = bench.build(corpus.DAY, max_requests=3)

    assert len(bench.model.calls) == 3 and report.incomplete
    assert len(report.days[0].gaps) == NEEDS - 3


def test_a_lost_answer_to_the_batch_s_creation_sends_nothing_twice(tmp_path: Path) -> None:
    _, bench, batches = direct_and_batched(tmp_path)
    batches.lose_next = True

    report = bench.build(corpus.DAY, batches=batches)

    assert len(batches.batches) == 1 and bench.model.calls == []
    assert {item.batch_id for item in report.days[0].pending} == {"batch_1"}
    assert len(report.days[0].pending) == NEEDS
    summary = report.to_markdown(bench.config.llm)
    assert "\n- waiting in batch batch_1: 8 answers; a later run collects them\n" in summary


def test_a_batch_that_cannot_be_sent_is_asked_directly(tmp_path: Path) -> None:
    direct, bench, batches = direct_and_batched(tmp_path)

    async def refused(requests: bytes, submission: str) -> str:
        raise AnswerError("HTTP 400 while starting the batch: too many requests in one file")

    batches.submit = refused  # type: ignore[method-assign]

    report = bench.build(corpus.DAY, batches=batches)

    assert len(bench.model.calls) == NEEDS and not report.days[0].pending
    assert any("the batch could not be sent (HTTP 400" in line for line in bench.messages)
    same_as(direct, bench)


def test_wait_without_batch_mode_is_refused(site: Site) -> None:
    run = site.cli("build", "--date", corpus.DAY, "--wait", "5")
    assert run.status == 2
    assert "--wait waits for batches; add --batch, or set llm.mode: batch" in run.stderr


@pytest.mark.parametrize(
    ("base_url", "endpoint"),
    [
        ("https://api.openai.com/v1", "/v1/chat/completions"),
        ("https://dashscope.aliyuncs.com/compatible-mode/v1", "/v1/chat/completions"),
        ("https://open.bigmodel.cn/api/paas/v4/", "/v4/chat/completions"),
        ("https://llm.example.org/openai", "/v1/chat/completions"),
    ],
)
def test_a_batch_names_the_path_its_provider_serves(base_url: str, endpoint: str) -> None:
    model = OpenAIChatModel(LlmSettings(base_url=base_url), "key")
    assert OpenAIBatches(model).endpoint == endpoint


def test_a_custom_id_names_its_need_within_64_characters() -> None:
    def key(arxiv_id: str) -> AnswerKey:
        return AnswerKey(arxiv_id, "translation", "m", "ab" * 32)

    assert custom_id(key("2602.20005v1")) == "2602.20005v1/translation/" + ("ab" * 32)[:39]
    long_old_style = custom_id(key("cond-mat.stat-mech/0601001v12"))
    assert long_old_style == "cond-mat.stat-mech/0601001v12/translation/" + ("ab" * 32)[:22]
    assert custom_id(key("2602.20005v1")) != custom_id(key("2602.20005v2"))


def test_a_batch_s_files_are_read_line_by_line_as_openai_writes_them() -> None:
    answered = {"status_code": 200, "request_id": "req_1", "body": json.loads(
        completion_reply("m", "译文", prompt_tokens=40).body)}  # fmt: skip
    refused = {"status_code": 400, "request_id": "req_2",
               "body": {"error": {"message": "Invalid 'max_tokens'.", "code": "invalid_value"}}}  # fmt: skip
    lines = [
        {"id": "batch_req_1", "custom_id": "a", "response": answered, "error": None},
        {"id": "batch_req_2", "custom_id": "b", "response": refused, "error": None},
        {
            "id": "batch_req_3",
            "custom_id": "c",
            "response": None,
            "error": {"code": "batch_expired", "message": EXPIRED_MESSAGE},
        },
        {"id": "batch_req_4", "custom_id": "d", "response": {"status_code": 200, "body": "<html>"}},
        {"no": "custom id"},
    ]
    results = batch_results(
        b"\n".join(json.dumps(line).encode() for line in lines) + b"\nnot json\n"
    )

    assert results["a"] == Completion("译文", 40, 1, "stop")
    assert results["b"] == (
        "the batch's request failed (HTTP 400: invalid_value: Invalid 'max_tokens')"
    )
    assert results["c"] == (
        "the batch did not answer it (batch_expired: This request could not be executed before"
        " the completion window expired)"
    )
    assert results["d"] == "malformed batch answer (ValidationError)"
    assert set(results) == {"a", "b", "c", "d"}


def test_batch_tokens_are_priced_at_the_discount() -> None:
    prices = LlmSettings(input_price_per_million=2.0, output_price_per_million=8.0)
    direct = Usage(model_requests=2, tokens_in=1_000_000, tokens_out=1_000_000)
    batched = Usage(
        model_requests=2,
        tokens_in=1_000_000,
        tokens_out=1_000_000,
        batched_requests=2,
        batched_tokens_in=1_000_000,
        batched_tokens_out=1_000_000,
    )
    assert cost_usd(direct, prices) == 10.0
    assert cost_usd(batched, prices) == 5.0
    assert cost_usd(batched, LlmSettings(input_price_per_million=2.0, batch_discount=0.6)) == 1.2
