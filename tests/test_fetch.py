"""The fetch stage against the stand-in arXiv: recorded responses, paging and faults."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from arxiv_digest.config import ArxivSettings
from arxiv_digest.errors import FetchError
from arxiv_digest.fetch import ArxivSource
from tests import corpus
from tests.conftest import SHARED
from tests.standins import ArxivStandIn, Reply, running

RECORDINGS = SHARED / "fixtures" / "arxiv"
needs_recordings = pytest.mark.skipif(
    not RECORDINGS.is_dir(), reason="../shared/fixtures is not present"
)
START, END = corpus.at("2026-02-12T00:50:00"), corpus.at("2026-02-13T00:50:00")


@pytest.fixture
def arxiv() -> Iterator[ArxivStandIn]:
    stand_in = ArxivStandIn(list(corpus.PAPERS))
    with running(stand_in):
        yield stand_in


def source_for(arxiv: ArxivStandIn, sleeps: list[float], **settings: object) -> ArxivSource:
    values: dict[str, object] = {
        "api_url": f"{arxiv.url}/api/query", "delay_seconds": 0.01, "timeout_seconds": 2,
    }  # fmt: skip
    values.update(settings)
    return ArxivSource(ArxivSettings.model_validate(values), sleep=sleeps.append)


def recorded(name: str, status: int = 200) -> Reply:
    return Reply(status, (RECORDINGS / name).read_bytes(), "application/atom+xml")


@needs_recordings
def test_error_entry_becomes_the_message_and_is_not_retried(arxiv: ArxivStandIn) -> None:
    arxiv.faults = [recorded("error-incorrect-id-format.xml", status=400)]

    with pytest.raises(
        FetchError, match=r"the query was refused: incorrect id format for abc \(HTTP 400\)"
    ):
        source_for(arxiv, []).fetch_submitted(START, END)
    assert len(arxiv.queries) == 1


@needs_recordings
def test_recorded_feed_is_read_in_full(arxiv: ArxivStandIn) -> None:
    arxiv.faults = [recorded("idlist-astro-ph-0601001-with-affiliation.xml")]

    papers = source_for(arxiv, []).fetch_submitted(
        corpus.at("2006-01-01T00:00:00"), corpus.at("2006-01-03T00:00:00")
    )

    [paper] = papers
    assert paper.arxiv_id == "astro-ph/0601001v1"
    assert paper.base_id == "astro-ph/0601001"
    assert paper.authors == ("Andrew Gould", "Susan Dorsher", "B. Scott Gaudi", "Andrzej Udalski")
    assert paper.categories == ("astro-ph",)
    assert paper.primary_category == "astro-ph"
    assert paper.abstract.startswith(
        "We derive the frequencies of hot Jupiters (HJs) with 3--5 day"
    )
    assert "  " not in paper.abstract and "\n" not in paper.abstract
    assert paper.published == corpus.at("2006-01-02T14:57:58")


def test_the_window_boundary_is_filtered_on_the_client(arxiv: ArxivStandIn) -> None:
    papers = source_for(arxiv, []).fetch_submitted(START, END)

    # The API range is inclusive to the minute: it returns 2602.20002v1 at 00:50 too.
    assert [paper.arxiv_id for paper in papers] == [
        "2602.20001v1", "2602.20003v1", "2602.20004v2", "2602.20005v1",
    ]  # fmt: skip


def test_every_page_is_fetched_with_the_spacing_kept(arxiv: ArxivStandIn) -> None:
    papers = source_for(arxiv, [], page_size=1, delay_seconds=0.2).fetch_submitted(START, END)

    assert len(papers) == 4
    assert [query["start"] for query in arxiv.queries] == ["0", "1", "2", "3", "4"]


def test_server_errors_are_retried_with_backoff(arxiv: ArxivStandIn) -> None:
    arxiv.faults = [Reply(503, b"busy", "text/plain"), Reply(500, b"oops", "text/plain")]
    sleeps: list[float] = []

    papers = source_for(arxiv, sleeps, delay_seconds=0.01).fetch_submitted(START, END)

    assert len(papers) == 4
    assert sleeps == [0.02, 0.04]


def test_a_failed_page_resumes_where_it_stopped(arxiv: ArxivStandIn) -> None:
    arxiv.faults_at_start[2] = [Reply(503, b"busy", "text/plain")]

    papers = source_for(arxiv, [], page_size=2).fetch_submitted(START, END)

    assert sorted(paper.arxiv_id for paper in papers) == [
        "2602.20001v1", "2602.20003v1", "2602.20004v2", "2602.20005v1",
    ]  # fmt: skip
    assert [query["start"] for query in arxiv.queries] == ["0", "2", "2", "4"]


def test_persistent_rate_limit_fails_clearly(arxiv: ArxivStandIn) -> None:
    arxiv.faults = [Reply(429, b"slow down", "text/plain")] * 4

    with pytest.raises(FetchError, match=r"HTTP 429; try again later .* after 4 attempts"):
        source_for(arxiv, [], num_retries=3).fetch_submitted(START, END)
    assert len(arxiv.queries) == 4


def test_blank_and_hollow_first_pages_are_asked_again(arxiv: ArxivStandIn) -> None:
    hollow = (
        b"<?xml version='1.0' encoding='UTF-8'?>\n"
        b'<feed xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/"'
        b' xmlns="http://www.w3.org/2005/Atom">'
        b"<opensearch:totalResults>4</opensearch:totalResults></feed>"
    )
    arxiv.faults = [
        Reply(200, b"", "application/atom+xml"),
        Reply(200, hollow, "application/atom+xml"),
    ]

    papers = source_for(arxiv, []).fetch_submitted(START, END)

    assert len(papers) == 4
    assert len(arxiv.queries) == 3


def test_a_slow_answer_times_out_and_is_retried(arxiv: ArxivStandIn) -> None:
    arxiv.faults = [Reply(200, b"", "application/atom+xml", delay_seconds=2.0)]

    papers = source_for(arxiv, [], timeout_seconds=0.5).fetch_submitted(START, END)

    assert len(papers) == 4
    assert len(arxiv.queries) == 2
