"""Fetch stage: every paper first submitted in a time range, from the arXiv API, OAI-PMH, or
the API with OAI-PMH behind it (`arxiv.source`).

The `arxiv` package does the API's query encoding, paging, Atom parsing and the spacing
between requests, through its public interface only. Around it this module adds what a
nightly job needs and the package leaves out: a deadline on every page, waits within the
run's budget that resume at the page that failed, the API's error entries turned into
messages, and an empty first page checked rather than taken for a quiet day.
"""

from __future__ import annotations

import logging
import math
import queue
import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import arxiv
import requests

from arxiv_digest.config import ArxivSettings
from arxiv_digest.errors import FetchError
from arxiv_digest.models import Paper, is_arxiv_id
from arxiv_digest.sources.announce import RSS, RssSource
from arxiv_digest.sources.arxivhttp import (
    RETRYABLE_STATUS,
    Attempts,
    HttpGetter,
    status_problem,
)
from arxiv_digest.sources.arxivxml import parse_xml
from arxiv_digest.sources.oaipmh import OAI_PMH, OaiPmhSource
from arxiv_digest.sources.patience import Patience
from arxiv_digest.window import api_timestamp

logger = logging.getLogger(__name__)

_ATOM = "{http://www.w3.org/2005/Atom}"
_OPENSEARCH = "{http://a9.com/-/spec/opensearch/1.1/}"
API = "arXiv API"


def search_query(categories: Iterable[str], start: datetime, end: datetime) -> str:
    """The API query for submissions in any of `categories` from `start` to `end` (inclusive)."""
    any_category = " OR ".join(f"cat:{category}" for category in categories)
    return f"({any_category}) AND submittedDate:[{api_timestamp(start)} TO {api_timestamp(end)}]"


class PaperSource(Protocol):
    """Where the papers of a time range come from."""

    @property
    def requests_made(self) -> int: ...

    @property
    def served_by(self) -> str:
        """The service that answered the last fetch, for the report."""
        ...

    def fetch_submitted(self, start: datetime, end: datetime) -> list[Paper]: ...

    def fetch_by_id(self, base_ids: Sequence[str]) -> list[Paper]:
        """The papers of these arXiv ids (without version) that the service knows."""
        ...


class _Stalled(Exception):
    """A page of the API did not come within its deadline."""


class ArxivApiSource:
    """The arXiv API, through one client at a time, so that the spacing between requests holds."""

    served_by = API

    def __init__(self, settings: ArxivSettings, plain: HttpGetter) -> None:
        self.settings = settings
        self._plain = plain
        self._attempts = plain.attempts
        self._pages_requested = 0
        self._client = self._new_client()

    def _new_client(self) -> arxiv.Client:
        # Retries are ours (below), so that they wait within the budget and resume at the
        # failed page.
        client = arxiv.Client(
            page_size=self.settings.page_size,
            delay_seconds=self.settings.delay_seconds,
            num_retries=0,
        )
        client.query_url_format = self.settings.api_url + "?{}"
        return client

    @property
    def requests_made(self) -> int:
        return self._pages_requested + self._plain.requests_made

    def fetch_submitted(self, start: datetime, end: datetime) -> list[Paper]:
        """Every paper in the configured categories first submitted in [start, end).

        The API's range is inclusive and to the minute, so the boundary is
        filtered here; the result may hold a paper more than once (the caller dedupes).
        """
        search = arxiv.Search(
            query=search_query(self.settings.categories, start, end),
            max_results=None,
            sort_by=arxiv.SortCriterion.SubmittedDate,
            sort_order=arxiv.SortOrder.Ascending,
        )
        papers = _papers(self._all_results(search))
        return [
            paper
            for paper in papers
            if paper.published is not None and start <= paper.published < end
        ]

    def fetch_by_id(self, base_ids: Sequence[str]) -> list[Paper]:
        search = arxiv.Search(id_list=list(base_ids), max_results=len(base_ids))
        return _papers(self._all_results(search))

    def _all_results(self, search: arxiv.Search) -> list[arxiv.Result]:
        collected: list[arxiv.Result] = []
        while True:
            before = len(collected)
            try:
                failed = True
                try:
                    collected.extend(self._results_within_deadline(search, offset=before))
                    failed = False
                finally:
                    # `arxiv` does not say how many requests it made: full pages, and the
                    # one that failed or came back empty.
                    got = len(collected) - before
                    pages = math.ceil(got / self.settings.page_size)
                    self._pages_requested += pages + (failed or got == 0)
                if collected:
                    _raise_for_error_entry(collected)
                    return collected
                # arXiv sometimes answers a good query with a blank body or an empty feed,
                # which `arxiv` takes for no results: an empty window is believed only when
                # a well-formed feed says it has no results.
                total = self._total_results(search)
                if total == 0:
                    return collected
                self._attempts.retry_after(
                    "the answer was not a well-formed Atom feed"
                    if total is None
                    else f"the first page held no entries of {total} announced"
                )
            except arxiv.HTTPError as error:
                if error.status not in RETRYABLE_STATUS:
                    raise FetchError(self._refusal(error), url=error.url) from None
                self._attempts.retry_after(status_problem(error.status))
            except arxiv.UnexpectedEmptyPageError:
                self._attempts.retry_after("a page came back empty")
            except _Stalled:
                self._attempts.retry_after(f"no answer within {self.settings.timeout_seconds:g} s")
                self._client = self._new_client()  # the stalled one is still waiting
            except requests.RequestException as error:
                self._attempts.connection_failed(error)

    def _results_within_deadline(self, search: arxiv.Search, offset: int) -> Iterator[arxiv.Result]:
        """`client.results(search, offset)`, with no page taking longer than the timeout.

        arxiv 4.0.2 sends without a timeout and has no public way to set one (upstream,
        lukasschwab/arxiv.py#213 is open), so the pages are pulled on a daemon thread; a
        stalled one is left behind, and its socket closes when the run ends.
        """
        items: queue.Queue[Any] = queue.Queue()
        abandoned = threading.Event()
        done = object()
        client = self._client

        def pull() -> None:
            try:
                for result in client.results(search, offset):
                    if abandoned.is_set():
                        return
                    items.put(result)
                items.put(done)
            except Exception as error:  # handed to the caller's thread as it is
                items.put(error)

        threading.Thread(target=pull, name="arxiv-api", daemon=True).start()
        deadline_seconds = self.settings.timeout_seconds + self.settings.delay_seconds
        try:
            while True:
                try:
                    item = items.get(timeout=deadline_seconds)
                except queue.Empty:
                    raise _Stalled from None
                if item is done:
                    return
                if isinstance(item, Exception):
                    raise item
                yield item
        finally:
            abandoned.set()

    def _total_results(self, search: arxiv.Search) -> int | None:
        """The feed's opensearch:totalResults for `search`, None when the answer is not a
        well-formed feed (asked with one plain request: `arxiv` does not show the feed)."""
        root = parse_xml(self._plain.get(self.settings.api_url, _first_result_params(search)))
        if root is None or root.tag != f"{_ATOM}feed":
            return None
        text = (root.findtext(f"{_OPENSEARCH}totalResults") or "").strip()
        return int(text) if text.isdigit() else None

    def _refusal(self, error: arxiv.HTTPError) -> str:
        """What the API said when it refused the query (asked again with a plain request:
        `arxiv` keeps only the status)."""
        answer = self._plain.once(error.url)
        detail = _error_entry_text(answer) if answer is not None else None
        if detail:
            return f"the query was refused: {detail} (HTTP {error.status})"
        return f"HTTP {error.status}"


class AutoSource:
    """The API; OAI-PMH for a fetch the API could not serve (its budget spent, its host
    unreachable, its answer refused)."""

    def __init__(self, api: PaperSource, oai: PaperSource, say: Callable[[str], None]) -> None:
        self._api = api
        self._oai = oai
        self._say = say
        self.served_by = api.served_by

    @property
    def requests_made(self) -> int:
        return self._api.requests_made + self._oai.requests_made

    def fetch_submitted(self, start: datetime, end: datetime) -> list[Paper]:
        return self._either(lambda source: source.fetch_submitted(start, end))

    def fetch_by_id(self, base_ids: Sequence[str]) -> list[Paper]:
        return self._either(lambda source: source.fetch_by_id(base_ids))

    def _either(self, fetch: Callable[[PaperSource], list[Paper]]) -> list[Paper]:
        if self.served_by == self._api.served_by:  # once the API has failed, it is not asked again
            try:
                return fetch(self._api)
            except FetchError as api_error:
                self._say(f"{api_error}; asking {self._oai.served_by} instead")
                self.served_by = self._oai.served_by
                try:
                    return fetch(self._oai)
                except FetchError as oai_error:
                    raise FetchError(f"{api_error}; then {oai_error}", service=None) from None
        return fetch(self._oai)


RSS_WAIT_BUDGET_SECONDS = 60.0
"""The RSS feed is waited for a minute at most: a night without it only settles nothing."""


@dataclass(frozen=True)
class ArxivServices:
    """How the arXiv services of one run are reached: each with its own waiting budget."""

    settings: ArxivSettings
    say: Callable[[str], None]
    sleep: Callable[[float], None] = time.sleep
    jitter: Callable[[], float] = random.random
    first_wait_seconds: float | None = None
    """The first backoff wait; by default twice the spacing between requests."""

    def getter(self, service: str, url_setting: str, url: str, budget_seconds: float) -> HttpGetter:
        patience = Patience(
            service,
            budget_seconds=budget_seconds,
            first_wait_seconds=self.first_wait_seconds
            or max(2 * self.settings.delay_seconds, 0.01),
            say=self.say,
            sleep=self.sleep,
            jitter=self.jitter,
        )
        attempts = Attempts(patience, url_setting, url)
        return HttpGetter(attempts, self.settings.timeout_seconds)

    def api(self) -> ArxivApiSource:
        getter = self.getter(
            API, "arxiv.api_url", self.settings.api_url, self.settings.wait_budget_seconds
        )
        return ArxivApiSource(self.settings, getter)

    def oai_pmh(self) -> OaiPmhSource:
        getter = self.getter(
            OAI_PMH, "arxiv.oai_url", self.settings.oai_url, self.settings.wait_budget_seconds
        )
        return OaiPmhSource(self.settings, getter)

    def rss(self) -> RssSource:
        budget_seconds = min(self.settings.wait_budget_seconds, RSS_WAIT_BUDGET_SECONDS)
        getter = self.getter(RSS, "arxiv.rss_url", self.settings.rss_url, budget_seconds)
        return RssSource(self.settings.rss_url, self.settings.categories, getter)

    def papers(self) -> PaperSource:
        """The paper source `arxiv.source` names."""
        if self.settings.source == "api":
            return self.api()
        if self.settings.source == "oai-pmh":
            return self.oai_pmh()
        return AutoSource(self.api(), self.oai_pmh(), self.say)


def _first_result_params(search: arxiv.Search) -> dict[str, str]:
    """The query string of the search's first result alone (the API's documented parameters)."""
    return {
        "search_query": search.query,
        "id_list": ",".join(search.id_list),
        "sortBy": search.sort_by.value,
        "sortOrder": search.sort_order.value,
        "start": "0",
        "max_results": "1",
    }


def _error_entry_text(content: bytes) -> str | None:
    root = parse_xml(content)
    if root is None:
        return None
    for entry in root.iter(f"{_ATOM}entry"):
        if "/api/errors" in (entry.findtext(f"{_ATOM}id") or ""):
            return (entry.findtext(f"{_ATOM}summary") or "").strip() or None
    return None


def _raise_for_error_entry(results: list[arxiv.Result]) -> None:
    # An API error can also come as HTTP 200 with a single error entry.
    for result in results:
        if "/api/errors" in result.entry_id:
            raise FetchError(f"the query was refused: {result.summary.strip()}")


def _papers(results: list[arxiv.Result]) -> list[Paper]:
    papers = []
    for result in results:
        arxiv_id = result.get_short_id()
        # The id goes into URLs on a public page: anything but an arXiv id is refused.
        if not is_arxiv_id(arxiv_id):
            logger.warning("skipped an entry with an invalid arXiv id: %r", arxiv_id[:80])
            continue
        papers.append(_paper_from_result(result))
    return papers


def _paper_from_result(result: arxiv.Result) -> Paper:
    return Paper(
        arxiv_id=result.get_short_id(),
        title=" ".join(result.title.split()),
        authors=tuple(" ".join(author.name.split()) for author in result.authors),
        categories=tuple(result.categories),
        primary_category=result.primary_category,
        abstract=" ".join(result.summary.split()),
        published=result.published,
        updated=result.updated,
        comment=_one_line(result.comment),
        journal_ref=_one_line(result.journal_ref),
        doi=_one_line(result.doi),
    )


def _one_line(text: str | None) -> str | None:
    return " ".join(text.split()) or None if text else None
