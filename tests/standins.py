"""Local stand-ins for the services `digest` talks to, served on 127.0.0.1.

- `ArxivStandIn` answers `/api/query` like the arXiv API: the query's categories
  and submittedDate range, sorting, paging, in the current Atom format (the
  format of the recordings in ../shared/fixtures/arxiv/).
- `PdfHost` serves PDFs at `/pdf/{id}`.
- `ModelStandIn` is an OpenAI-compatible `/v1/chat/completions` server with
  canned answers, optional latency, a concurrency limit answered with 429, and
  scripted faults.

Each records what it was asked, so tests can count requests.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as time_of_day
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse
from xml.sax.saxutils import escape, quoteattr
from zoneinfo import ZoneInfo

# ----------------------------------------------------------------------------- servers


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


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
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

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

    def __post_init__(self) -> None:
        self.primary_category = self.primary_category or self.categories[0]


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
    while day.weekday() in (4, 5) or day in holidays:  # no announcements on Friday, Saturday
        day += timedelta(days=1)
    return datetime.combine(day, time_of_day(20), EASTERN)


class ArxivStandIn(StandIn):
    """The arXiv API's query endpoint over a list of papers.

    With `now` set, a paper is visible only once `announced_at` it (late
    announcements), with `holidays` deferring announcements.

    `faults` is a list of replies served, one per request, before normal
    answers resume; `faults_at_start[n]` likewise, for requests of the page
    that starts at result n.
    """

    def __init__(self, papers: list[FeedPaper] | None = None) -> None:
        super().__init__()
        self.papers = list(papers or [])
        self.faults: list[Reply] = []
        self.faults_at_start: dict[int, list[Reply]] = {}
        self.queries: list[dict[str, str]] = []
        self.now: datetime | None = None
        self.holidays: frozenset[date] = frozenset()

    def handle(self, method: str, path: str, body: bytes, headers: dict[str, str]) -> Reply:
        url = urlparse(path)
        if url.path != "/api/query":
            return Reply(404, b"not found", "text/plain")
        params = {key: values[0] for key, values in parse_qs(url.query).items()}
        self.queries.append(params)
        start = int(params.get("start", 0))
        if self.faults:
            return self.faults.pop(0)
        if self.faults_at_start.get(start):
            return self.faults_at_start[start].pop(0)
        query = params.get("search_query", "")
        per_page = int(params.get("max_results", 10))
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
        for paper in self.papers:
            if self.now is not None and announced_at(paper.published, self.holidays) > self.now:
                continue
            if wanted and not wanted.intersection(paper.categories):
                continue
            if limits:
                stamp = paper.published.astimezone(UTC).strftime("%Y%m%d%H%M")
                if not limits.group(1) <= stamp <= limits.group(2):
                    continue
            found.append(paper)
        return found


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
    def __init__(self, pdfs: dict[str, bytes] | None = None) -> None:
        super().__init__()
        self.pdfs = dict(pdfs or {})

    def handle(self, method: str, path: str, body: bytes, headers: dict[str, str]) -> Reply:
        arxiv_id = path.removeprefix("/pdf/")
        if path.startswith("/pdf/") and arxiv_id in self.pdfs:
            return Reply(200, self.pdfs[arxiv_id], "application/pdf")
        return Reply(404, b"no such paper", "text/plain")

    @property
    def downloads(self) -> int:
        return len(self.requests)


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


class ModelStandIn(StandIn):
    """An OpenAI-compatible chat-completions endpoint.

    `answers[(arxiv_id, task)]` is the answer; `faults[(arxiv_id, task)]` a list
    of replies served first for that pair; `latency_seconds` delays every
    answer; `max_concurrent` answers 429 with Retry-After above that many
    requests in flight.
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

    def handle(self, method: str, path: str, body: bytes, headers: dict[str, str]) -> Reply:
        if not path.endswith("/chat/completions"):
            return _error_reply(404, "unknown path")
        request = json.loads(body)
        user = next(m["content"] for m in request["messages"] if m["role"] == "user")
        key = (prompt_arxiv_id(user), prompt_task(user))
        with self._lock:
            self.authorizations.add(headers.get("authorization", ""))
            self.calls.append(key)
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
            if self.answerer is not None:
                text = self.answerer(key[0], key[1], request)
            else:
                text = self.answers.get(key, triage_for(key[0]) if key[1] == "triage" else "")
            return completion_reply(request["model"], text, prompt_tokens=len(user) // 2)
        finally:
            with self._lock:
                self.in_flight -= 1


def completion_reply(model: str, text: str, prompt_tokens: int = 100) -> Reply:
    body = {
        "id": "chatcmpl-standin",
        "object": "chat.completion",
        "created": 1770940800,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": len(text) // 2,
            "total_tokens": prompt_tokens + len(text) // 2,
        },
    }
    return Reply(200, json.dumps(body, ensure_ascii=False).encode())


def _error_reply(status: int, message: str, headers: dict[str, str] | None = None) -> Reply:
    body = {"error": {"message": message, "type": "standin_error", "code": status}}
    return Reply(status, json.dumps(body).encode(), headers=headers or {})


def error_reply(status: int, message: str = "fault", **headers: str) -> Reply:
    """A scripted error reply, e.g. `error_reply(503)` or `error_reply(429, retry_after="1")`."""
    return _error_reply(status, message, {k.replace("_", "-"): v for k, v in headers.items()})
