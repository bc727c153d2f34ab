"""The fetch stage against the stand-in arXiv: recorded responses, paging and faults."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime

import pytest

from arxiv_digest.config import ArxivSettings
from arxiv_digest.errors import FetchError
from arxiv_digest.models import Paper
from arxiv_digest.sources.announce import Announcement, parse_rss
from arxiv_digest.sources.arxiv import ArxivServices, PaperSource
from arxiv_digest.sources.oaipmh import split_authors
from arxiv_digest.sources.patience import Patience, WaitBudgetSpent
from tests import corpus
from tests.conftest import SHARED
from tests.standins import EASTERN, ArxivStandIn, FeedPaper, Listing, Reply, rss_feed, running
from tests.test_unreachable import closed_port

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


def services_for(
    arxiv: ArxivStandIn,
    sleeps: list[float],
    said: list[str] | None = None,
    first_wait_seconds: float | None = None,
    **settings: object,
) -> ArxivServices:
    values: dict[str, object] = {
        "api_url": f"{arxiv.url}/api/query", "oai_url": f"{arxiv.url}/oai",
        "rss_url": f"{arxiv.url}/rss", "delay_seconds": 0.01, "timeout_seconds": 2,
    }  # fmt: skip
    values.update(settings)
    return ArxivServices(
        ArxivSettings.model_validate(values),
        said.append if said is not None else (lambda line: None),
        sleep=sleeps.append,
        jitter=lambda: 1.0,  # the longest wait of each backoff step
        first_wait_seconds=first_wait_seconds,
    )


def source_for(arxiv: ArxivStandIn, sleeps: list[float], **settings: object) -> PaperSource:
    return services_for(arxiv, sleeps, **settings).api()


def recorded(name: str, status: int = 200) -> Reply:
    return Reply(status, (RECORDINGS / name).read_bytes(), "application/atom+xml")


@needs_recordings
def test_error_entry_becomes_the_message_and_is_not_retried(arxiv: ArxivStandIn) -> None:
    # A refusal is the same every time it is asked: once for the query, once for its reason
    # (`arxiv` keeps only the status).
    arxiv.faults = [recorded("error-incorrect-id-format.xml", status=400)] * 2

    with pytest.raises(
        FetchError, match=r"the query was refused: incorrect id format for abc \(HTTP 400\)"
    ):
        source_for(arxiv, []).fetch_submitted(START, END)
    assert len(arxiv.queries) == 2


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


def test_backoff_waits_are_jittered_in_the_upper_half() -> None:
    waits: list[float] = []
    patience = Patience(
        "arXiv API", budget_seconds=600, first_wait_seconds=8, say=lambda line: None,
        sleep=waits.append, jitter=iter([0.0, 0.5, 0.999]).__next__,
    )  # fmt: skip
    for _ in range(3):
        patience.wait("rate-limiting (HTTP 429)")
    assert waits == [4.0, 12.0, pytest.approx(31.984)]


def test_a_failed_page_resumes_where_it_stopped(arxiv: ArxivStandIn) -> None:
    arxiv.faults_at_start[2] = [Reply(503, b"busy", "text/plain")]

    source = source_for(arxiv, [], page_size=2)
    papers = source.fetch_submitted(START, END)

    assert sorted(paper.arxiv_id for paper in papers) == [
        "2602.20001v1", "2602.20003v1", "2602.20004v2", "2602.20005v1",
    ]  # fmt: skip
    assert [query["start"] for query in arxiv.queries] == ["0", "2", "2", "4"]
    assert source.requests_made == 4


def test_a_429_storm_of_minutes_is_waited_out_within_the_budget(arxiv: ArxivStandIn) -> None:
    arxiv.faults = [Reply(429, b"Rate exceeded.", "text/plain")] * 7
    sleeps: list[float] = []
    said: list[str] = []

    source = services_for(arxiv, sleeps, said, first_wait_seconds=6).api()
    papers = source.fetch_submitted(START, END)

    assert len(papers) == 4
    assert sleeps == [6, 12, 24, 48, 96, 120, 120]  # 7.1 minutes
    assert said[1] == "arXiv API: rate-limiting (HTTP 429); waiting 12 s, 0.3 of 10 minutes used"
    assert said[-1] == "arXiv API: rate-limiting (HTTP 429); waiting 120 s, 7.1 of 10 minutes used"
    assert source.requests_made == len(arxiv.queries) == 8


def test_a_storm_longer_than_the_budget_fails_clearly(arxiv: ArxivStandIn) -> None:
    arxiv.faults = [Reply(429, b"Rate exceeded.", "text/plain")] * 20
    sleeps: list[float] = []

    source = services_for(arxiv, sleeps, first_wait_seconds=6, source="api").papers()
    with pytest.raises(WaitBudgetSpent) as failure:
        source.fetch_submitted(START, END)

    assert sum(sleeps) == 546 and len(arxiv.queries) == 9
    assert str(failure.value) == (
        "arXiv API: rate-limiting (HTTP 429), and waiting 120 s more would pass the 10-minute"
        " budget (arxiv.wait_budget_seconds); try again later"
    )


def test_retry_after_is_honoured(arxiv: ArxivStandIn) -> None:
    arxiv.oai_faults = [Reply(503, b"", "text/plain", headers={"Retry-After": "37"})]
    sleeps: list[float] = []
    said: list[str] = []

    papers = services_for(arxiv, sleeps, said).oai_pmh().fetch_submitted(START, END)

    assert len(by_id(papers)) == 4
    assert sleeps == [37.0]
    assert said == [
        "arXiv OAI-PMH: HTTP 503; waiting 37 s as asked (Retry-After), 0.6 of 10 minutes used"
    ]


def by_id(papers: list[Paper]) -> dict[str, Paper]:
    return {paper.arxiv_id: paper for paper in papers}


def test_oai_pmh_gives_the_same_papers_as_the_api(arxiv: ArxivStandIn) -> None:
    arxiv.papers.append(  # a paper with an affiliation and three authors
        FeedPaper(
            arxiv_id="2602.20007v3", title="Three  versions", authors=["A One", "B Two", "C Three"],
            categories=["cs.CL", "eess.AS"], abstract="An abstract\n that wraps.",
            published=corpus.at("2026-02-12T12:00:00"), comment="5 pages", doi="10.1/x",
        )
    )  # fmt: skip
    arxiv.oai_page_size = 2  # five records in cs:cs:SD, three in eess:eess:AS: tokens on both

    from_api = services_for(arxiv, []).api().fetch_submitted(START, END)
    from_oai = services_for(arxiv, []).oai_pmh().fetch_submitted(START, END)

    assert sorted(by_id(from_api)) == [
        "2602.20001v1", "2602.20003v1", "2602.20004v2", "2602.20005v1", "2602.20007v3",
    ]  # fmt: skip
    assert by_id(from_oai) == by_id(from_api)  # cross-lists (2602.20001, 2602.20007) included
    harvests = [query for query in arxiv.oai_queries if "set" in query]
    assert [query["set"] for query in harvests] == ["cs:cs:SD", "eess:eess:AS"]
    assert {query["from"] for query in harvests} == {"2026-02-11"}
    assert sum("resumptionToken" in query for query in arxiv.oai_queries) >= 2


def test_an_expired_resumption_token_starts_the_set_again(arxiv: ArxivStandIn) -> None:
    arxiv.oai_page_size = 1
    arxiv.expired_tokens = {"cs:cs:SD|2026-02-11|2"}

    papers = services_for(arxiv, []).oai_pmh().fetch_submitted(START, END)

    assert sorted(by_id(papers)) == [
        "2602.20001v1", "2602.20003v1", "2602.20004v2", "2602.20005v1",
    ]  # fmt: skip


def test_a_dead_api_is_replaced_by_oai_pmh(arxiv: ArxivStandIn) -> None:
    said: list[str] = []
    services = services_for(arxiv, [], said, api_url=f"http://127.0.0.1:{closed_port()}/api/query")
    source = services.papers()

    papers = source.fetch_submitted(START, END)

    assert len(by_id(papers)) == 4 and source.served_by == "arXiv OAI-PMH"
    assert said[-1].startswith("arXiv API: cannot reach 127.0.0.1:")
    assert said[-1].endswith("or arxiv.api_url; asking arXiv OAI-PMH instead")
    assert arxiv.queries == []


def test_an_api_storm_past_its_budget_is_served_by_oai_pmh(arxiv: ArxivStandIn) -> None:
    arxiv.faults = [Reply(429, b"Rate exceeded.", "text/plain")] * 20
    sleeps: list[float] = []

    source = services_for(arxiv, sleeps, first_wait_seconds=6).papers()
    papers = source.fetch_submitted(START, END)

    assert len(by_id(papers)) == 4 and source.served_by == "arXiv OAI-PMH"
    assert sum(sleeps) == 546  # the API's budget, and no more


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


def test_the_rss_feed_says_whether_and_what_arxiv_announced(arxiv: ArxivStandIn) -> None:
    arxiv.now = corpus.at("2026-02-13T01:30:00")  # Thursday 20:30 US Eastern
    rss = services_for(arxiv, []).rss()

    announcement = rss.latest()

    assert announcement.listing_day == date(2026, 2, 13)  # Friday's listing
    assert announcement.covers_until == datetime(2026, 2, 12, 14, tzinfo=EASTERN)
    assert {listed.arxiv_id: listed.announce_type for listed in announcement.papers} == {
        "2602.20000v1": "new", "2602.20001v1": "cross", "2602.20003v1": "new",
        "2602.20004v2": "new",
    }  # fmt: skip
    arxiv.now = corpus.at("2026-02-14T01:30:00")  # Friday evening: no announcement
    assert rss.latest() == Announcement(listing_day=None)
    assert rss.requests_made == 2


def test_replacements_are_not_first_announcements() -> None:
    [new, replaced, cross, elsewhere] = [
        FeedPaper(arxiv_id=f"2602.3000{n}v2", title="t", authors=["a"], categories=categories,
                  abstract="x", published=corpus.at("2026-02-12T10:00:00"))
        for n, categories in enumerate([["cs.SD"], ["cs.SD"], ["cs.CL", "eess.AS"], ["cs.CL"]])
    ]  # fmt: skip
    listing = Listing(
        day=date(2026, 2, 13),
        items=[(new, "new"), (replaced, "replace"), (cross, "cross"), (elsewhere, "new")],
    )

    announcement = parse_rss(
        rss_feed(listing, ["cs.SD", "eess.AS"], corpus.at("2026-02-13T01:30:00"))
    )

    assert [listed.arxiv_id for listed in announcement.first_announced(["cs.SD", "eess.AS"])] == [
        "2602.30000v2", "2602.30002v2",
    ]  # fmt: skip


def test_arxiv_raw_author_lines_become_the_api_s_names() -> None:
    line = "C. Bal\\'azs (MIT), Katharina G{\\\"o}tz ((1) Uni A, (2) Uni B) and {\\O}ystein Aas"
    assert split_authors(line) == ("C. Balázs", "Katharina Götz", "Øystein Aas")
    assert split_authors("Ana Anand and Bo Li") == ("Ana Anand", "Bo Li")
