"""Local stand-ins for the services `digest` talks to, served on 127.0.0.1.

- `ArxivStandIn` is arXiv over one list of papers, by its announcement schedule:
  `/api/query` like the API (categories and submittedDate range or id_list,
  sorting, paging, in the Atom format of the recordings in ../shared/fixtures/arxiv/);
  `/oai` like OAI-PMH (ListRecords by set and datestamp with resumption tokens,
  GetRecord, `arXivRaw` records, OAI errors); `/rss/{categories}` like the RSS
  feed (today's listing with announce types; empty without an announcement).
- `PdfHost` serves PDFs at `/pdf/{id}` and HTML papers (LaTeXML's) at `/html/{id}`.
- `ModelStandIn` is an OpenAI-compatible `/v1/chat/completions` server with
  canned answers, optional latency, a concurrency limit answered with 429, and
  scripted faults; and its Batch API (`/v1/files`, `/v1/batches`) as OpenAI documents it.

Each records what it was asked, so tests can count requests.
"""

from __future__ import annotations

import email.policy
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as time_of_day
from email.parser import BytesParser
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse
from xml.sax.saxutils import escape, quoteattr
from zoneinfo import ZoneInfo

# ----------------------------------------------------------------------------- servers


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # socketserver's default backlog is 5: a burst of 8 new connections (a build's first
    # round of requests) overflowed it, and TCP retried the dropped one a second later, a
    # delay that was the stand-in's, not the tool's.
    request_queue_size = 128


@dataclass
class Reply:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    delay_seconds: float = 0.0


class StandIn:
    """A threaded HTTP server on 127.0.0.1 whose `handle` subclasses define."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, bytes]] = []
        self._lock = threading.Lock()
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                self._serve(b"")

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self._serve(self.rfile.read(length))

            def _serve(self, body: bytes) -> None:
                with stand_in._lock:
                    stand_in.requests.append((self.command, self.path, body))
                headers = {name.lower(): value for name, value in self.headers.items()}
                reply = stand_in.handle(self.command, self.path, body, headers)
                if reply.delay_seconds:
                    time.sleep(reply.delay_seconds)
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", reply.content_type)
                    self.send_header("Content-Length", str(len(reply.body)))
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(reply.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = _Server(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        # A short poll: `shutdown` waits for it, once per stand-in and test.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def handle(self, method: str, path: str, body: bytes, headers: dict[str, str]) -> Reply:
        raise NotImplementedError

    def start(self) -> StandIn:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@contextmanager
def running(*stand_ins: StandIn) -> Iterator[None]:
    for stand_in in stand_ins:
        stand_in.start()
    try:
        yield
    finally:
        for stand_in in stand_ins:
            stand_in.stop()


# ----------------------------------------------------------------------------- arXiv


@dataclass
class FeedPaper:
    """A paper as the stand-in arXiv knows it."""

    arxiv_id: str
    title: str
    authors: list[str]
    categories: list[str]
    abstract: str
    published: datetime
    primary_category: str = ""
    comment: str | None = None
    journal_ref: str | None = None
    doi: str | None = None
    held_days: int = 0
    """Days moderation holds the paper before it can be announced."""

    def __post_init__(self) -> None:
        self.primary_category = self.primary_category or self.categories[0]

    @property
    def base_id(self) -> str:
        return self.arxiv_id.rsplit("v", 1)[0]

    @property
    def version(self) -> int:
        return int(self.arxiv_id.rsplit("v", 1)[1])

    def announced(self, holidays: frozenset[date] = frozenset()) -> datetime:
        return announced_at(self.published + timedelta(days=self.held_days), holidays)


_RANGE = re.compile(r"submittedDate:\[(\d{12}) TO (\d{12})\]")
_CATEGORY = re.compile(r"cat:([\w.-]+)")


EASTERN = ZoneInfo("America/New_York")


def announced_at(submitted: datetime, holidays: frozenset[date] = frozenset()) -> datetime:
    """When arXiv makes a submission visible, by its announcement schedule.

    Submissions are cut off at 14:00 US Eastern on weekdays and announced at
    20:00 Eastern, Sunday to Thursday: Thursday-afternoon-to-Friday-afternoon
    submissions go out on Sunday evening, Friday-to-Monday ones on Monday
    evening. A holiday defers the announcement to the next announcement day.
    """
    local = submitted.astimezone(EASTERN)
    day = local.date()
    while True:
        cutoff = datetime.combine(day, time_of_day(14), EASTERN)
        if cutoff > local and cutoff.weekday() < 5:
            break
        day += timedelta(days=1)
    while not is_announcement_day(day, holidays):
        day += timedelta(days=1)
    return datetime.combine(day, time_of_day(20), EASTERN)


def is_announcement_day(day: date, holidays: frozenset[date] = frozenset()) -> bool:
    """Sunday to Thursday, but for holidays (US Eastern dates)."""
    return day.weekday() not in (4, 5) and day not in holidays


def last_announcement(now: datetime, holidays: frozenset[date] = frozenset()) -> datetime:
    """The latest announcement at or before `now`."""
    day = now.astimezone(EASTERN).date()
    while True:
        moment = datetime.combine(day, time_of_day(20), EASTERN)
        if moment <= now and is_announcement_day(day, holidays):
            return moment
        day -= timedelta(days=1)


@dataclass(frozen=True)
class Listing:
    """What the RSS feed shows at a moment: the listing of the last day's announcement."""

    day: date | None
    items: list[tuple[FeedPaper, str]]
    """Each paper with its announce type (new, cross)."""


def listing_at(
    papers: list[FeedPaper], now: datetime, categories: list[str],
    holidays: frozenset[date] = frozenset(),
) -> Listing:  # fmt: skip
    """The feed a day after an announcement lists it; later (and before any), it is empty."""
    announced = last_announcement(now, holidays)
    if now - announced >= timedelta(hours=24):
        return Listing(day=None, items=[])
    wanted = set(categories)
    items = [
        (paper, "new" if paper.primary_category in wanted else "cross")
        for paper in papers
        if paper.announced(holidays) == announced and wanted.intersection(paper.categories)
    ]
    return Listing(day=(announced + timedelta(days=1)).date(), items=items)


class ArxivStandIn(StandIn):
    """arXiv's API, OAI-PMH interface and RSS feed over one list of papers.

    With `now` set, a paper is visible only once it is announced (`FeedPaper.announced`),
    with `holidays` deferring announcements, and the RSS feed lists the last announcement.

    `faults` is a list of replies served, one per API request, before normal answers
    resume; `faults_at_start[n]` likewise, for requests of the page that starts at
    result n; `oai_faults` and `rss_faults` likewise for those services.
    """

    def __init__(self, papers: list[FeedPaper] | None = None) -> None:
        super().__init__()
        self.papers = list(papers or [])
        self.faults: list[Reply] = []
        self.faults_at_start: dict[int, list[Reply]] = {}
        self.queries: list[dict[str, str]] = []
        self.oai_faults: list[Reply] = []
        self.oai_queries: list[dict[str, str]] = []
        self.oai_page_size = 2
        self.expired_tokens: set[str] = set()
        self.rss_faults: list[Reply] = []
        self.rss_requests = 0
        self.now: datetime | None = None
        self.holidays: frozenset[date] = frozenset()

    def handle(self, method: str, path: str, body: bytes, headers: dict[str, str]) -> Reply:
        url = urlparse(path)
        params = {key: values[0] for key, values in parse_qs(url.query).items()}
        if url.path == "/api/query":
            return self._api(params)
        if url.path == "/oai":
            self.oai_queries.append(params)
            return self.oai_faults.pop(0) if self.oai_faults else self._oai(params)
        if url.path.startswith("/rss/"):
            self.rss_requests += 1
            if self.rss_faults:
                return self.rss_faults.pop(0)
            return Reply(
                200, self.rss(url.path.removeprefix("/rss/").split("+")), "application/xml"
            )
        return Reply(404, b"not found", "text/plain")

    def visible(self) -> list[FeedPaper]:
        if self.now is None:
            return list(self.papers)
        now = self.now
        return [paper for paper in self.papers if paper.announced(self.holidays) <= now]

    def _api(self, params: dict[str, str]) -> Reply:
        self.queries.append(params)
        start = int(params.get("start", 0))
        if self.faults:
            return self.faults.pop(0)
        if self.faults_at_start.get(start):
            return self.faults_at_start[start].pop(0)
        query = params.get("search_query", "")
        per_page = int(params.get("max_results", 10))
        if params.get("id_list"):
            wanted_ids = set(params["id_list"].split(","))
            found = [paper for paper in self.visible() if paper.base_id in wanted_ids]
        else:
            found = self.search(query)
        if params.get("sortBy") == "submittedDate":
            found.sort(
                key=lambda p: (p.published, p.arxiv_id),
                reverse=params.get("sortOrder") == "descending",
            )
        page = found[start : start + per_page]
        return Reply(
            200, atom_feed(page, len(found), start, per_page, query), "application/atom+xml"
        )

    def search(self, query: str) -> list[FeedPaper]:
        wanted = set(_CATEGORY.findall(query))
        limits = _RANGE.search(query)
        found = []
        for paper in self.visible():
            if wanted and not wanted.intersection(paper.categories):
                continue
            if limits:
                stamp = paper.published.astimezone(UTC).strftime("%Y%m%d%H%M")
                if not limits.group(1) <= stamp <= limits.group(2):
                    continue
            found.append(paper)
        return found

    def _oai(self, params: dict[str, str]) -> Reply:
        verb = params.get("verb", "")
        if verb == "GetRecord":
            base_id = params.get("identifier", "").removeprefix("oai:arXiv.org:")
            found = [paper for paper in self.visible() if paper.base_id == base_id]
            if not found:
                return oai_error(verb, "idDoesNotExist", "no such identifier")
            return Reply(200, oai_answer(verb, found, self.holidays, None), "text/xml")
        if verb != "ListRecords":
            return oai_error(verb, "badVerb", "not supported by the stand-in")
        if "resumptionToken" in params:
            token = params["resumptionToken"]
            if token in self.expired_tokens:  # once: a restart is given fresh tokens
                self.expired_tokens.discard(token)
                return oai_error(verb, "badResumptionToken", "expired")
            set_name, first_day, offset_text = token.split("|")
            offset = int(offset_text)
        else:
            if params.get("metadataPrefix") != "arXivRaw":
                return oai_error(verb, "cannotDisseminateFormat", "stand-in speaks arXivRaw")
            set_name, first_day, offset = params.get("set", ""), params.get("from", ""), 0
        archive, _, subject = set_name.split(":")
        category = f"{archive}.{subject}"
        matching = sorted(
            (
                paper
                for paper in self.visible()
                if category in paper.categories and datestamp(paper, self.holidays) >= first_day
            ),
            key=lambda paper: paper.base_id,
        )
        if not matching:
            return oai_error(verb, "noRecordsMatch", "no records")
        page = matching[offset : offset + self.oai_page_size]
        following = offset + self.oai_page_size
        token = f"{set_name}|{first_day}|{following}" if following < len(matching) else ""
        return Reply(200, oai_answer(verb, page, self.holidays, token), "text/xml")

    def rss(self, categories: list[str]) -> bytes:
        now = self.now or datetime.now(UTC)
        listing = listing_at(self.papers, now, categories, self.holidays)
        return rss_feed(listing, categories, now)


def datestamp(paper: FeedPaper, holidays: frozenset[date]) -> str:
    """The OAI-PMH datestamp: the day (UTC) its record was made, at its announcement."""
    return paper.announced(holidays).astimezone(UTC).date().isoformat()


_OAI_HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">\n'
    "<responseDate>2026-02-13T01:00:00Z</responseDate>\n"
)


def oai_error(verb: str, code: str, text: str) -> Reply:
    body = (
        f'{_OAI_HEAD}<request verb="{escape(verb)}">http://standin/oai</request>\n'
        f'<error code="{code}">{escape(text)}</error>\n</OAI-PMH>\n'
    )
    return Reply(200, body.encode(), "text/xml")


def oai_answer(
    verb: str, papers: list[FeedPaper], holidays: frozenset[date], token: str | None
) -> bytes:
    records = "".join(_oai_record(paper, holidays) for paper in papers)
    resumption = "" if token is None else f"<resumptionToken>{escape(token)}</resumptionToken>\n"
    return (
        f'{_OAI_HEAD}<request verb="{verb}">http://standin/oai</request>\n'
        f"<{verb}>\n{records}{resumption}</{verb}>\n</OAI-PMH>\n"
    ).encode()


def _oai_record(paper: FeedPaper, holidays: frozenset[date]) -> str:
    sets = "".join(
        f"<setSpec>{c.split('.')[0]}:{c.split('.')[0]}:{c.split('.')[1]}</setSpec>"
        for c in paper.categories
        if "." in c
    )
    versions = "".join(
        f'<version version="v{n}"><date>{format_datetime(paper.published, usegmt=True)}'
        f"</date><size>100kb</size><source_type>D</source_type></version>\n"
        for n in range(1, paper.version + 1)
    )
    optional = "".join(
        f"<{tag}>{escape(value)}</{tag}>\n"
        for tag, value in (
            ("comments", paper.comment), ("journal-ref", paper.journal_ref), ("doi", paper.doi),
        )
        if value is not None
    )  # fmt: skip
    return (
        f"<record><header><identifier>oai:arXiv.org:{paper.base_id}</identifier>"
        f"<datestamp>{datestamp(paper, holidays)}</datestamp>{sets}</header>\n"
        '<metadata><arXivRaw xmlns="http://arxiv.org/OAI/arXivRaw/">\n'
        f"<id>{paper.base_id}</id>\n<submitter>{escape(paper.authors[0])}</submitter>\n"
        f"{versions}<title>{escape(paper.title)}</title>\n"
        f"<authors>{escape(_authors_line(paper.authors))}</authors>\n"
        f"<categories>{escape(' '.join(paper.categories))}</categories>\n{optional}"
        f"<license>http://creativecommons.org/licenses/by/4.0/</license>\n"
        f"<abstract>{escape(paper.abstract)}</abstract>\n"
        "</arXivRaw></metadata></record>\n"
    )


def _authors_line(authors: list[str]) -> str:
    """arXivRaw's one line: ``A, B and C``."""
    return authors[0] if len(authors) == 1 else f"{', '.join(authors[:-1])} and {authors[-1]}"


def rss_feed(listing: Listing, categories: list[str], now: datetime) -> bytes:
    """arXiv's RSS 2.0 feed of a listing (no items on a day without an announcement)."""
    day = listing.day or now.astimezone(EASTERN).date()
    stamp = format_datetime(datetime.combine(day, time_of_day(0), EASTERN))
    items = "".join(
        "<item>"
        f"<title>{escape(paper.title)}</title>"
        f"<link>https://arxiv.org/abs/{paper.base_id}</link>"
        f"<description>arXiv:{paper.arxiv_id} Announce Type: {kind} \n"
        f"Abstract: {escape(paper.abstract)}</description>"
        f'<guid isPermaLink="false">oai:arXiv.org:{paper.arxiv_id}</guid>'
        + "".join(f"<category>{escape(c)}</category>" for c in paper.categories)
        + f"<pubDate>{stamp}</pubDate>"
        f"<arxiv:announce_type>{kind}</arxiv:announce_type>"
        "<dc:rights>http://creativecommons.org/licenses/by/4.0/</dc:rights>"
        f"<dc:creator>{escape(', '.join(paper.authors))}</dc:creator>"
        "</item>\n"
        for paper, kind in listing.items
    )
    name = "+".join(categories)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<rss xmlns:arxiv="http://arxiv.org/schemas/atom"'
        ' xmlns:dc="http://purl.org/dc/elements/1.1/"'
        ' xmlns:atom="http://www.w3.org/2005/Atom" version="2.0">\n'
        f"<channel><title>{escape(', '.join(categories))} updates on arXiv.org</title>"
        f"<link>http://rss.arxiv.org/rss/{name}</link>"
        f"<description>{escape(', '.join(categories))} updates</description>"
        "<language>en-us</language>"
        f"<pubDate>{stamp}</pubDate>"
        "<skipDays><day>Saturday</day><day>Sunday</day></skipDays>\n"
        f"{items}</channel>\n</rss>\n"
    ).encode()


def atom_feed(papers: list[FeedPaper], total: int, start: int, per_page: int, query: str) -> bytes:
    """A page of results in the arXiv API's Atom format."""
    entries = "".join(_atom_entry(paper) for paper in papers)
    title = escape(
        f"arXiv Query: search_query={query}&id_list=&start={start}&max_results={per_page}"
    )
    return (
        "<?xml version='1.0' encoding='UTF-8'?>\n"
        '<feed xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/"'
        ' xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns="http://www.w3.org/2005/Atom">\n'
        "  <id>https://arxiv.org/api/standin</id>\n"
        f"  <title>{title}</title>\n"
        "  <updated>2026-02-13T00:00:00Z</updated>\n"
        f"  <opensearch:itemsPerPage>{per_page}</opensearch:itemsPerPage>\n"
        f"  <opensearch:totalResults>{total}</opensearch:totalResults>\n"
        f"  <opensearch:startIndex>{start}</opensearch:startIndex>\n"
        f"{entries}</feed>\n"
    ).encode()


def _atom_entry(paper: FeedPaper) -> str:
    stamp = paper.published.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    categories = "".join(
        f'    <category term={quoteattr(c)} scheme="http://arxiv.org/schemas/atom"/>\n'
        for c in paper.categories
    )
    authors = "".join(
        f"    <author>\n      <name>{escape(name)}</name>\n    </author>\n"
        for name in paper.authors
    )
    return (
        "  <entry>\n"
        f"    <id>http://arxiv.org/abs/{paper.arxiv_id}</id>\n"
        f"    <title>{escape(paper.title)}</title>\n"
        f"    <updated>{stamp}</updated>\n"
        f'    <link href="https://arxiv.org/abs/{paper.arxiv_id}" rel="alternate" type="text/html"/>\n'
        f'    <link href="https://arxiv.org/pdf/{paper.arxiv_id}" rel="related"'
        ' type="application/pdf" title="pdf"/>\n'
        f"    <summary>{escape(paper.abstract)}</summary>\n"
        f"{categories}"
        f"    <published>{stamp}</published>\n"
        f"    <arxiv:primary_category term={quoteattr(paper.primary_category)}/>\n"
        f"{_optional('arxiv:comment', paper.comment)}"
        f"{_optional('arxiv:journal_ref', paper.journal_ref)}"
        f"{_optional('arxiv:doi', paper.doi)}"
        f"{authors}"
        "  </entry>\n"
    )


def _optional(tag: str, text: str | None) -> str:
    return "" if text is None else f"    <{tag}>{escape(text)}</{tag}>\n"


# ----------------------------------------------------------------------------- PDFs


class PdfHost(StandIn):
    """arXiv's PDFs (`/pdf/{id}`) and HTML papers (`/html/{id}`): a paper without HTML gets
    the 404 page arXiv answers with (`NO_HTML`), as when its conversion failed."""

    def __init__(
        self, pdfs: dict[str, bytes] | None = None, htmls: dict[str, bytes] | None = None
    ) -> None:
        super().__init__()
        self.pdfs = dict(pdfs or {})
        self.htmls = dict(htmls or {})
        self.images: dict[str, tuple[bytes, str]] = {}
        """Files beside the HTML papers by path (`/html/{id}/x1.png`): bytes, content type."""

    def handle(self, method: str, path: str, body: bytes, headers: dict[str, str]) -> Reply:
        if path in self.images:
            content, content_type = self.images[path]
            return Reply(200, content, content_type)
        if path.startswith("/html/"):
            page = self.htmls.get(path.removeprefix("/html/"))
            if page is None:
                return Reply(404, NO_HTML, "text/html; charset=utf-8")
            return Reply(200, page, "text/html; charset=utf-8")
        arxiv_id = path.removeprefix("/pdf/")
        if path.startswith("/pdf/") and arxiv_id in self.pdfs:
            return Reply(200, self.pdfs[arxiv_id], "application/pdf")
        return Reply(404, b"no such paper", "text/plain")

    @property
    def downloads(self) -> int:
        """PDF requests (each paper's HTML is asked for first, and counted apart)."""
        return sum(1 for _, path, _ in self.requests if path.startswith("/pdf/"))

    @property
    def html_requests(self) -> int:
        return sum(1 for _, path, _ in self.requests if path.startswith("/html/"))


NO_HTML = (
    b"<!doctype html><html lang='en'><head><title>No HTML version</title></head><body>"
    b"<main><h1>No HTML version of this paper</h1><p>Its source could not be converted to"
    b" HTML; read the PDF instead.</p></main></body></html>"
)
"""What the HTML host answers for a paper it has no HTML for (our own words, in the shape
of arXiv's page: an HTML page with status 404, no LaTeXML document in it)."""


def make_pdf(pages: list[list[str]]) -> bytes:
    """A small but valid PDF with one text line per string, Helvetica, one list per page."""
    objects: list[bytes] = []

    def add(obj: bytes) -> int:
        objects.append(obj)
        return len(objects)

    font = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    page_ids = []
    pages_id = len(objects) + 2 * len(pages) + 1
    for lines in pages:
        text = "".join(f"({_pdf_string(line)}) Tj T* " for line in lines)
        stream = f"BT /F1 10 Tf 12 TL 50 780 Td {text}ET".encode("latin-1", "replace")
        content = add(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
        page_ids.append(
            add(
                b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 612 792] /Contents %d 0 R"
                b" /Resources << /Font << /F1 %d 0 R >> >> >>" % (pages_id, content, font)
            )
        )
    kids = b" ".join(b"%d 0 R" % page for page in page_ids)
    assert add(b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, len(page_ids))) == pages_id
    catalog = add(b"<< /Type /Catalog /Pages %d 0 R >>" % pages_id)
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, obj)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        catalog,
        xref,
    )
    return bytes(out)


def _pdf_string(line: str) -> str:
    return line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


# ----------------------------------------------------------------------------- model

_ARXIV_ID = re.compile(r"arXiv ID：(\S+)")


def prompt_task(user_message: str) -> str:
    """Which task a request of our default prompts is for."""
    for task in ("analysis", "triage"):
        if f"Task: {task}" in user_message:
            return task
    return "translation"


def triage_for(arxiv_id: str) -> str:
    """A valid triage answer for a paper no test scripted one for."""
    return json.dumps(
        {"title_zh": f"论文 {arxiv_id} 的中文标题", "summary_zh": "本文提出一种音频方法并验证了效果。",
         "topics": ["asr"]},
        ensure_ascii=False,
    )  # fmt: skip


def prompt_arxiv_id(user_message: str) -> str:
    found = _ARXIV_ID.search(user_message)
    return found.group(1) if found else ""


Answerer = Callable[[str, str, dict[str, Any]], str]
"""(arxiv_id, task, request) → answer text."""


# What a thinking model writes before its answer (an R1 distill's or Qwen3's habit).
REASONING = (
    "Okay, the user wants a careful Chinese rendering of this abstract. Let me think about the"
    " key terms first, then check the numbers one by one before I write the answer."
)
THINK_IN_CONTENT = "think-in-content"
"""vLLM and Ollama serving Qwen3 or an R1 distill without a reasoning parser: the reasoning
is in the content, in <think>…</think> before the answer."""
REASONING_FIELD = "reasoning-field"
"""DeepSeek's reasoner (and vLLM with a reasoning parser): the reasoning in the message's
`reasoning_content`, beside the content."""
STREAM_ONLY = "stream-only"
"""DashScope's QwQ and Qwen3 thinking models: a plain request is refused with 400."""


class ModelStandIn(StandIn):
    """An OpenAI-compatible chat-completions endpoint.

    `answers[(arxiv_id, task)]` is the answer; `faults[(arxiv_id, task)]` a list
    of replies served first for that pair; `latency_seconds` delays every
    answer; `max_concurrent` answers 429 with Retry-After above that many
    requests in flight. Like a provider, it honours a request's output limit
    (`max_tokens` or `max_completion_tokens`, counting reasoning): an answer over it
    is cut there with `finish_reason: length`; and it streams (server-sent events,
    with usage last when asked) when the request says `stream`. `profile` holds the
    providers' habits it shows: THINK_IN_CONTENT, REASONING_FIELD, STREAM_ONLY.
    """

    def __init__(
        self,
        answers: dict[tuple[str, str], str] | None = None,
        *,
        answerer: Answerer | None = None,
        latency_seconds: float = 0.0,
        max_concurrent: int | None = None,
    ) -> None:
        super().__init__()
        self.answers = dict(answers or {})
        self.answerer = answerer
        self.latency_seconds = latency_seconds
        self.max_concurrent = max_concurrent
        self.faults: dict[tuple[str, str], list[Reply]] = {}
        self.calls: list[tuple[str, str]] = []
        self.authorizations: set[str] = set()
        self.in_flight = 0
        self.peak_in_flight = 0
        self.rejected = 0
        self.profile: set[str] = set()
        self.streamed = 0
        """Requests that asked for a stream."""
        self.limits: list[int | None] = []
        """The output limit of each request."""
        self.batch_calls: list[tuple[str, str]] = []
        """The requests answered in batches."""
        self.batch_api = BatchApiStandIn(self)

    def handle(self, method: str, path: str, body: bytes, headers: dict[str, str]) -> Reply:
        if "/files" in path or "/batches" in path:
            with self._lock:
                self.authorizations.add(headers.get("authorization", ""))
            return self.batch_api.handle(method, path, body, headers)
        if not path.endswith("/chat/completions"):
            return _error_reply(404, "unknown path")
        request = json.loads(body)
        user = next(m["content"] for m in request["messages"] if m["role"] == "user")
        key = (prompt_arxiv_id(user), prompt_task(user))
        streamed = bool(request.get("stream"))
        limit = request.get("max_tokens", request.get("max_completion_tokens"))
        with self._lock:
            self.authorizations.add(headers.get("authorization", ""))
            self.calls.append(key)
            self.limits.append(limit)
            self.streamed += streamed
            if STREAM_ONLY in self.profile and not streamed:
                return _dashscope_reply(
                    "invalid_parameter_error",
                    "invalid_request_error",
                    "This model only support stream mode, please enable the stream parameter"
                    " to access the model. ",
                )
            if self.max_concurrent is not None and self.in_flight >= self.max_concurrent:
                self.rejected += 1
                return _error_reply(429, "rate limited", {"Retry-After": "0.2"})
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
            scripted = self.faults.get(key)
            fault = scripted.pop(0) if scripted else None
        try:
            if self.latency_seconds:
                time.sleep(self.latency_seconds)
            if fault is not None:
                return fault
            return self._answer(request, self._text(key, request), len(user) // 2, limit, streamed)
        finally:
            with self._lock:
                self.in_flight -= 1

    def _text(self, key: tuple[str, str], request: dict[str, Any]) -> str:
        if self.answerer is not None:
            return self.answerer(key[0], key[1], request)
        return self.answers.get(key, triage_for(key[0]) if key[1] == "triage" else "")

    def batched(self, request: dict[str, Any]) -> Reply:
        """A batch's request, answered as a direct one would be (its scripted faults too)."""
        user = next(m["content"] for m in request["messages"] if m["role"] == "user")
        key = (prompt_arxiv_id(user), prompt_task(user))
        limit = request.get("max_tokens", request.get("max_completion_tokens"))
        with self._lock:
            self.batch_calls.append(key)
            scripted = self.faults.get(key)
            fault = scripted.pop(0) if scripted else None
        if fault is not None:
            return fault
        return self._answer(request, self._text(key, request), len(user) // 2, limit, False)

    def _answer(
        self,
        request: dict[str, Any],
        text: str,
        prompt_tokens: int,
        limit: int | None,
        streamed: bool,
    ) -> Reply:
        """The answer as this profile's provider gives it: reasoning where it puts it, cut at
        the output limit (reasoning counts against it), streamed when asked."""
        message: dict[str, str] = {"role": "assistant"}
        if THINK_IN_CONTENT in self.profile:
            text = f"<think>\n{REASONING}\n</think>\n\n{text}"
        reasoning_tokens = 0
        if REASONING_FIELD in self.profile:
            message["reasoning_content"] = REASONING
            reasoning_tokens = len(REASONING) // 2
        finish_reason = "stop"
        if limit is not None and reasoning_tokens + len(text) // 2 > limit:
            text = text[: max(0, limit - reasoning_tokens) * 2]
            finish_reason = "length"
        completion_tokens = reasoning_tokens + len(text) // 2
        if streamed:
            with_usage = bool((request.get("stream_options") or {}).get("include_usage"))
            usage = (prompt_tokens, completion_tokens) if with_usage else None
            return stream_reply(request["model"], text, finish_reason, usage)
        message["content"] = text
        return completion_reply(
            request["model"], text, prompt_tokens, finish_reason, message, completion_tokens
        )


BATCH_STEPS = ("validating", "in_progress", "finalizing", "completed")
EXPIRED_MESSAGE = "This request could not be executed before the completion window expired."
UNANSWERED = {
    "expired": {"code": "batch_expired", "message": EXPIRED_MESSAGE},
    "cancelled": {"code": "batch_cancelled", "message": "This request was cancelled."},
}
"""The error file's line for a request a batch ended without running, by how it ended."""


@dataclass
class StandInBatch:
    id: str
    input_file_id: str
    metadata: dict[str, str]
    created_at: int
    status: str = "validating"
    output_file_id: str | None = None
    error_file_id: str | None = None
    errors: list[dict[str, Any]] = field(default_factory=list)
    counts: dict[str, int] = field(
        default_factory=lambda: {"total": 0, "completed": 0, "failed": 0}
    )

    def json(self) -> dict[str, Any]:
        return {
            "id": self.id, "object": "batch", "endpoint": "/v1/chat/completions",
            "errors": {"object": "list", "data": self.errors} if self.errors else None,
            "input_file_id": self.input_file_id, "completion_window": "24h",
            "status": self.status, "output_file_id": self.output_file_id,
            "error_file_id": self.error_file_id, "created_at": self.created_at,
            "expires_at": self.created_at + 86400, "request_counts": self.counts,
            "metadata": self.metadata or None,
        }  # fmt: skip


class BatchApiStandIn:
    """OpenAI's Batch API over a `ModelStandIn`: `POST /v1/files` (multipart, purpose
    `batch`), `GET /v1/files/{id}/content`, `POST /v1/batches` (the input validated as the
    docs say: unique custom ids, POST to the batch's endpoint, no streaming), `GET
    /v1/batches/{id}`, `GET /v1/batches` (newest first) and `POST /v1/batches/{id}/cancel`
    (to `cancelling`; `cancelled(id, answered=n)` ends it). A batch moves through
    validating → in_progress → finalizing → completed one step each time it is read when
    `advance_on_read` is set, else when a test calls `advance`; `expire(id, answered=n)`
    ends it `expired` with its first n requests answered and the rest in the error file as
    `batch_expired`; `lose_next_create` makes the next create answer HTTP 500 *after* the
    batch is made (a lost response)."""

    def __init__(self, model: ModelStandIn) -> None:
        self._model = model
        self._lock = threading.Lock()
        self.files: dict[str, bytes] = {}
        self.batches: dict[str, StandInBatch] = {}
        self.advance_on_read = False
        self.lose_next_create = False
        self.create_delay_seconds = 0.0
        self.absent = False
        """A provider without a Batch API: every batch path answers 404."""
        self.list_calls = 0

    def handle(self, method: str, path: str, body: bytes, headers: dict[str, str]) -> Reply:
        url = urlparse(path)
        parts = url.path.rstrip("/").split("/")
        if self.absent:
            return _error_reply(404, "unknown path")
        with self._lock:
            if method == "POST" and parts[-1] == "files":
                return self._upload(body, headers.get("content-type", ""))
            if method == "GET" and parts[-1] == "content" and parts[-3] == "files":
                content = self.files.get(parts[-2])
                if content is None:
                    return _error_reply(404, "no such file")
                return Reply(200, content, content_type="application/octet-stream")
            if method == "POST" and parts[-1] == "batches":
                return self._create(json.loads(body))
            if method == "GET" and parts[-1] == "batches":
                self.list_calls += 1
                listed = [batch.json() for batch in reversed(self.batches.values())]
                return Reply(200, json.dumps({"object": "list", "data": listed, "has_more": False,
                                              "first_id": None, "last_id": None}).encode())  # fmt: skip
            if method == "POST" and parts[-1] == "cancel" and parts[-3] == "batches":
                batch = self.batches.get(parts[-2])
                if batch is None:
                    return _error_reply(404, f"No batch found with id '{parts[-2]}'.")
                if batch.status in BATCH_STEPS[:-1]:
                    batch.status = "cancelling"
                return Reply(200, json.dumps(batch.json()).encode())
            if method == "GET" and parts[-2] == "batches":
                batch = self.batches.get(parts[-1])
                if batch is None:
                    return _error_reply(404, f"No batch found with id '{parts[-1]}'.")
                if self.advance_on_read:
                    self._advance(batch)
                return Reply(200, json.dumps(batch.json()).encode())
        return _error_reply(404, "unknown path")

    def _upload(self, body: bytes, content_type: str) -> Reply:
        message = BytesParser(policy=email.policy.HTTP).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + body
        )
        fields = {
            str(part.get_param("name", header="content-disposition")): part.get_payload(decode=True)
            for part in message.iter_parts()
        }
        if fields.get("purpose") != b"batch" or not isinstance(fields.get("file"), bytes):
            return _error_reply(400, "a batch input file needs purpose=batch and a file")
        file_id = f"file-{len(self.files) + 1}"
        self.files[file_id] = fields["file"]
        return Reply(200, json.dumps({"id": file_id, "object": "file", "bytes": len(fields["file"]),
                                      "created_at": 1770940800, "filename": "requests.jsonl",
                                      "purpose": "batch", "status": "processed"}).encode())  # fmt: skip

    def _create(self, request: dict[str, Any]) -> Reply:
        if request.get("input_file_id") not in self.files:
            return _error_reply(400, "no such input file")
        batch = StandInBatch(
            id=f"batch_{len(self.batches) + 1}", input_file_id=request["input_file_id"],
            metadata=request.get("metadata") or {}, created_at=1770940800 + len(self.batches),
        )  # fmt: skip
        self.batches[batch.id] = batch
        lines = self._requests(batch)
        problem = _invalid_batch(lines, request.get("endpoint", ""))
        if problem:
            batch.status, batch.errors = "failed", [{"code": "invalid_request", "message": problem}]
        batch.counts["total"] = len(lines)
        if self.lose_next_create:
            self.lose_next_create = False
            return _error_reply(500, "the server lost its answer")
        return Reply(
            200, json.dumps(batch.json()).encode(), delay_seconds=self.create_delay_seconds
        )

    def _requests(self, batch: StandInBatch) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.files[batch.input_file_id].splitlines() if line]

    def advance(self, batch_id: str | None = None, *, to: str = "completed") -> None:
        """Move a batch (the newest when None) on, step by step, to `to`."""
        with self._lock:
            batch = self.batches[batch_id] if batch_id else list(self.batches.values())[-1]
            while batch.status != to and batch.status in BATCH_STEPS[:-1]:
                self._advance(batch)

    def expire(self, batch_id: str | None = None, *, answered: int = 0) -> None:
        with self._lock:
            batch = self.batches[batch_id] if batch_id else list(self.batches.values())[-1]
            self._finish(batch, "expired", answered)

    def cancelled(self, batch_id: str | None = None, *, answered: int = 0) -> None:
        """End a `cancelling` batch `cancelled`, its first `answered` requests done."""
        with self._lock:
            batch = self.batches[batch_id] if batch_id else list(self.batches.values())[-1]
            assert batch.status == "cancelling", batch.status
            self._finish(batch, "cancelled", answered)

    def fail(self, batch_id: str | None = None) -> None:
        """End a batch `failed`, as when its input does not validate."""
        with self._lock:
            batch = self.batches[batch_id] if batch_id else list(self.batches.values())[-1]
            batch.status = "failed"
            batch.errors = [{"code": "invalid_request", "message": "the input did not validate"}]

    def _advance(self, batch: StandInBatch) -> None:
        if batch.status not in BATCH_STEPS[:-1]:
            return
        following = BATCH_STEPS[BATCH_STEPS.index(batch.status) + 1]
        if following == "completed":
            self._finish(batch, "completed", None)
        else:
            batch.status = following

    def _finish(self, batch: StandInBatch, status: str, answered: int | None) -> None:
        """Answer the batch's requests (the first `answered`; all when None) into its output
        and error files, as OpenAI writes them."""
        outputs, errors = [], []
        for index, line in enumerate(self._requests(batch)):
            entry: dict[str, Any] = {"id": f"batch_req_{index}", "custom_id": line["custom_id"]}
            if answered is not None and index >= answered:
                entry |= {"response": None, "error": UNANSWERED[status]}
                errors.append(entry)
                continue
            reply = self._model.batched(line["body"])
            entry |= {"response": {"status_code": reply.status, "request_id": f"req_{index}",
                                   "body": json.loads(reply.body)}, "error": None}  # fmt: skip
            (outputs if reply.status == 200 else errors).append(entry)
        for kind, entries in (("output_file_id", outputs), ("error_file_id", errors)):
            if entries:
                file_id = f"file-{len(self.files) + 1}"
                self.files[file_id] = b"".join(
                    json.dumps(e, ensure_ascii=False).encode() + b"\n" for e in entries
                )
                setattr(batch, kind, file_id)
        batch.counts.update(completed=len(outputs), failed=len(errors))
        batch.status = status


def _invalid_batch(lines: list[dict[str, Any]], endpoint: str) -> str:
    """Why a batch's input does not validate, as OpenAI checks it; empty when it does."""
    if endpoint != "/v1/chat/completions":
        return f"unsupported endpoint {endpoint!r}"
    custom_ids = [line.get("custom_id") for line in lines]
    if len(set(custom_ids)) != len(custom_ids):
        return "custom_id values must be unique"
    for number, line in enumerate(lines, start=1):
        if line.get("method") != "POST" or line.get("url") != endpoint:
            return f"line {number}: must POST to the batch's endpoint"
        if (line.get("body") or {}).get("stream"):
            return f"line {number}: streaming is not supported in a batch"
    return ""


def completion_reply(
    model: str,
    text: str,
    prompt_tokens: int = 100,
    finish_reason: str = "stop",
    message: dict[str, str] | None = None,
    completion_tokens: int | None = None,
) -> Reply:
    completion_tokens = len(text) // 2 if completion_tokens is None else completion_tokens
    body = {
        "id": "chatcmpl-standin",
        "object": "chat.completion",
        "created": 1770940800,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": message or {"role": "assistant", "content": text},
                "finish_reason": finish_reason,
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }
    return Reply(200, json.dumps(body, ensure_ascii=False).encode())


def stream_reply(
    model: str, text: str, finish_reason: str = "stop", usage: tuple[int, int] | None = None
) -> Reply:
    """A streamed completion as OpenAI sends it: server-sent events, the role first, the
    content in pieces, the finish reason, then (with `stream_options.include_usage`) a last
    chunk with the usage and no choices, and `[DONE]`."""

    def chunk(choices: list[dict[str, Any]], **more: Any) -> bytes:
        body = {"id": "chatcmpl-standin", "object": "chat.completion.chunk",
                "created": 1770940800, "model": model, "choices": choices, **more}  # fmt: skip
        return b"data: " + json.dumps(body, ensure_ascii=False).encode() + b"\n\n"

    events = [
        chunk([{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}])
    ]
    for start in range(0, len(text), 40):
        piece = text[start : start + 40]
        events.append(chunk([{"index": 0, "delta": {"content": piece}, "finish_reason": None}]))
    events.append(chunk([{"index": 0, "delta": {}, "finish_reason": finish_reason}]))
    if usage is not None:
        prompt_tokens, completion_tokens = usage
        events.append(chunk([], usage={"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                                       "total_tokens": prompt_tokens + completion_tokens}))  # fmt: skip
    events.append(b"data: [DONE]\n\n")
    return Reply(200, b"".join(events), content_type="text/event-stream")


def filtered_reply(provider: str) -> Reply:
    """A provider's content filter refusing a request, with the body it really sends."""
    if provider == "dashscope":
        return _dashscope_reply(
            "data_inspection_failed", "data_inspection_failed",
            "Input data may contain inappropriate content.",
        )  # fmt: skip
    bodies: dict[str, Any] = {
        "zhipu": {
            "error": {
                "code": "1301",
                "message": "系统检测到输入或生成内容可能包含不安全或敏感内容，"
                "请您避免输入易产生敏感内容的提示语，感谢您的配合。",
            }
        },
        "moonshot": {
            "error": {
                "message": "The request was rejected because it was considered high risk",
                "type": "content_filter",
            }
        },
        "deepseek": {"detail": "Content Exists Risk"},
    }
    return Reply(400, json.dumps(bodies[provider], ensure_ascii=False).encode())


def _dashscope_reply(code: str, kind: str, message: str) -> Reply:
    """An error from DashScope's OpenAI-compatible mode."""
    body = {"error": {"code": code, "param": None, "message": message, "type": kind},
            "id": "chatcmpl-standin", "request_id": "standin"}  # fmt: skip
    return Reply(400, json.dumps(body).encode())


def _error_reply(status: int, message: str, headers: dict[str, str] | None = None) -> Reply:
    body = {"error": {"message": message, "type": "standin_error", "code": status}}
    return Reply(status, json.dumps(body).encode(), headers=headers or {})


def error_reply(status: int, message: str = "fault", **headers: str) -> Reply:
    """A scripted error reply, e.g. `error_reply(503)` or `error_reply(429, retry_after="1")`."""
    return _error_reply(status, message, {k.replace("_", "-"): v for k, v in headers.items()})
