"""Fetch stage: every paper first submitted in a time range, from the arXiv API.

The `arxiv` package does the query encoding, paging, Atom parsing and the
spacing between requests. Around it this module adds what a nightly job needs
and the package leaves out: a request timeout, retries with backoff that resume
at the page that failed, the API's error entries turned into messages, and an
empty first page that is asked again rather than taken for a quiet day.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, Protocol

import arxiv
import requests
from lxml import etree

from arxiv_digest.config import ArxivSettings
from arxiv_digest.errors import FetchError
from arxiv_digest.models import Paper, is_arxiv_id
from arxiv_digest.netfault import connection_cause, host_of
from arxiv_digest.window import api_timestamp

logger = logging.getLogger(__name__)

_ATOM = "{http://www.w3.org/2005/Atom}"
_OPENSEARCH = "{http://a9.com/-/spec/opensearch/1.1/}"
_RETRYABLE_STATUS = {429, 500, 502, 503, 504}
# A host that cannot be reached at all (DNS, refused, TLS, proxy) is tried this many times
# more, a second apart, so that a night without network ends in seconds, not minutes.
_UNREACHABLE_RETRIES = 2


class _TimeoutSession(requests.Session):
    """A session that never waits forever and remembers the last response it got."""

    def __init__(self, timeout_seconds: float) -> None:
        super().__init__()
        self.timeout_seconds = timeout_seconds
        self.last_response: requests.Response | None = None
        self.requests_made = 0

    def request(self, method: str | bytes, url: str | bytes, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        kwargs.setdefault("timeout", self.timeout_seconds)
        self.requests_made += 1
        self.last_response = None
        response = super().request(method, url, **kwargs)
        self.last_response = response
        return response


def search_query(categories: Iterable[str], start: datetime, end: datetime) -> str:
    """The API query for submissions in any of `categories` from `start` to `end` (inclusive)."""
    any_category = " OR ".join(f"cat:{category}" for category in categories)
    return f"({any_category}) AND submittedDate:[{api_timestamp(start)} TO {api_timestamp(end)}]"


class PaperSource(Protocol):
    """Where the papers of a time range come from."""

    @property
    def requests_made(self) -> int: ...

    def fetch_submitted(self, start: datetime, end: datetime) -> list[Paper]: ...


class ArxivSource:
    """The arXiv API, through one shared client, so that the spacing between requests holds for the whole run."""

    def __init__(
        self, settings: ArxivSettings, *, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self.settings = settings
        self._sleep = sleep
        self._session = _TimeoutSession(settings.timeout_seconds)
        # Retries are ours (below), so that they back off and resume at the failed page.
        self._client = arxiv.Client(
            page_size=settings.page_size, delay_seconds=settings.delay_seconds, num_retries=0
        )
        self._client.query_url_format = settings.api_url + "?{}"
        # arxiv 4.x sends with a plain requests.Session and no timeout; give it ours.
        self._client._session = self._session

    @property
    def requests_made(self) -> int:
        return self._session.requests_made

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

    def _all_results(self, search: arxiv.Search) -> list[arxiv.Result]:
        collected: list[arxiv.Result] = []
        failures = 0
        unreachable = 0
        empty_answers = 0
        while True:
            try:
                collected.extend(self._client.results(search, offset=len(collected)))
                if collected:
                    _raise_for_error_entry(collected)
                    return collected
                # arXiv sometimes answers a good query with a blank body or an empty
                # feed, and `arxiv` then quietly yields nothing: an empty window is
                # believed only when a well-formed "no results" comes twice.
                total = _total_results(self._session.last_response)
                if total == 0:
                    empty_answers += 1
                    if empty_answers >= 2 or self.settings.num_retries == 0:
                        return collected
                    problem = "no results; asking once more to be sure"
                elif total is None:
                    problem = "the answer was not a well-formed Atom feed"
                else:
                    problem = f"the first page held no entries of {total} announced"
            except arxiv.HTTPError as error:
                if error.status not in _RETRYABLE_STATUS:
                    raise FetchError(self._error_message(error), url=error.url) from None
                problem = f"HTTP {error.status}"
            except arxiv.UnexpectedEmptyPageError:
                problem = "a page came back empty"
            except requests.Timeout:
                problem = f"no answer within {self.settings.timeout_seconds:g} s"
            except requests.RequestException as error:
                cause = connection_cause(error)
                if cause is None:
                    problem = f"connection failed ({type(error).__name__})"
                else:
                    # Not the server's load but the way to it: retried briefly, then named.
                    unreachable += 1
                    if unreachable > _UNREACHABLE_RETRIES:
                        raise FetchError(
                            f"cannot reach {host_of(self.settings.api_url)}: {cause}; check the"
                            " network, a proxy (HTTPS_PROXY), or arxiv.api_url"
                        ) from None
                    logger.warning("arXiv API: %s; trying again in 1 s", cause)
                    self._sleep(1.0)
                    continue
            failures += 1
            if failures > self.settings.num_retries:
                raise FetchError(
                    f"{problem}; try again later", url=self.settings.api_url, attempts=failures
                )
            backoff_seconds = self.settings.delay_seconds * 2**failures
            logger.warning("arXiv API: %s; retrying in %.0f s", problem, backoff_seconds)
            self._sleep(backoff_seconds)

    def _error_message(self, error: arxiv.HTTPError) -> str:
        response = self._session.last_response
        detail = _error_entry_text(response.content) if response is not None else None
        if detail:
            return f"the query was refused: {detail} (HTTP {error.status})"
        return f"HTTP {error.status}"


def _total_results(response: requests.Response | None) -> int | None:
    """The feed's opensearch:totalResults, or None when the answer is not a well-formed feed."""
    root = _parse_xml(response.content) if response is not None else None
    if root is None or root.tag != f"{_ATOM}feed":
        return None
    text = (root.findtext(f"{_OPENSEARCH}totalResults") or "").strip()
    return int(text) if text.isdigit() else None


def _error_entry_text(content: bytes) -> str | None:
    root = _parse_xml(content)
    if root is None:
        return None
    for entry in root.iter(f"{_ATOM}entry"):
        if "/api/errors" in (entry.findtext(f"{_ATOM}id") or ""):
            return (entry.findtext(f"{_ATOM}summary") or "").strip() or None
    return None


def _parse_xml(content: bytes) -> Any:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        return etree.fromstring(content, parser=parser)
    except etree.XMLSyntaxError:
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
