"""arXiv's OAI-PMH interface as a paper source: arXiv's own way to keep a copy up to date.

OAI-PMH selects by datestamp, the day a record last changed, never by submission time;
a record is made when its paper is announced, so every paper first submitted in
[start, end) has a datestamp on or after start's day. Each category's set
(`cs:cs:SD`) is harvested from that day on in the `arXivRaw` format, whose version
history holds each version's submission time, and the range is filtered here. Pages
follow resumption tokens; arXiv's flow control is 503 with `Retry-After`, waited out
within the run's budget like any other wait; a failed page is asked again with the same
token, and a token that has expired (they last a day) starts the set again.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from pylatexenc.latex2text import LatexNodes2Text

from arxiv_digest.config import ArxivSettings
from arxiv_digest.errors import FetchError
from arxiv_digest.models import Paper, is_arxiv_id
from arxiv_digest.sources.arxivhttp import HttpGetter
from arxiv_digest.sources.arxivxml import parse_xml, rfc2822

OAI_PMH = "arXiv OAI-PMH"
_OAI = "{http://www.openarchives.org/OAI/2.0/}"
_RAW = "{http://arxiv.org/OAI/arXivRaw/}"
_PARENTHESES = re.compile(r"\([^()]*\)")
_AUTHOR_SEPARATOR = re.compile(r",|\band\b")
_NOTHING_FOUND = frozenset({"noRecordsMatch", "idDoesNotExist"})


def set_spec(category: str) -> str:
    """The OAI-PMH set of an arXiv category: ``cs.SD`` → ``cs:cs:SD``; an archive without
    subject classes (``quant-ph``) is a set under its group (``physics:quant-ph``)."""
    archive, _, subject = category.partition(".")
    if subject:
        return f"{archive}:{archive}:{subject}"
    return f"physics:{archive}"


class OaiPmhSource:
    served_by = OAI_PMH

    def __init__(self, settings: ArxivSettings, getter: HttpGetter) -> None:
        self.settings = settings
        self._getter = getter

    @property
    def requests_made(self) -> int:
        return self._getter.requests_made

    def fetch_submitted(self, start: datetime, end: datetime) -> list[Paper]:
        """Every paper in the configured categories first submitted in [start, end); a
        cross-listed one once per set it is in (the caller dedupes)."""
        # A day early: OAI-PMH datestamps are days in UTC, and the range's start is not.
        first_day = (start.astimezone(UTC) - timedelta(days=1)).date().isoformat()
        papers = []
        for category in self.settings.categories:
            listing = {"verb": "ListRecords", "metadataPrefix": "arXivRaw",
                       "set": set_spec(category), "from": first_day}  # fmt: skip
            for record in self._records(listing):
                paper = paper_from_raw(record)
                if paper is not None and paper.published and start <= paper.published < end:
                    papers.append(paper)
        return papers

    def fetch_by_id(self, base_ids: Sequence[str]) -> list[Paper]:
        papers: list[Paper] = []
        for base_id in base_ids:
            identifier = f"oai:arXiv.org:{base_id}"
            params = {"verb": "GetRecord", "metadataPrefix": "arXivRaw", "identifier": identifier}
            papers += filter(None, map(paper_from_raw, self._records(params)))
        return papers

    def _records(self, first: dict[str, str]) -> Iterator[Any]:
        """The `arXivRaw` records a request and its resumption tokens answer, each once."""
        params = first
        seen: set[str] = set()
        restarted = False
        while True:
            root = parse_xml(self._getter.get(self.settings.oai_url, params), huge=True)
            if root is None:  # a page cut short: asked again, like a server error
                self._getter.attempts.retry_after("the answer was not well-formed XML")
                continue
            error = root.find(f"{_OAI}error")
            if error is not None:
                code = error.get("code", "")
                if code in _NOTHING_FOUND:
                    return
                if code == "badResumptionToken" and params is not first and not restarted:
                    # Expired (tokens last a day): harvested again once, `seen` skips repeats.
                    params, restarted = first, True
                    continue
                raise FetchError(
                    f"{code}: {(error.text or '').strip()}",
                    service=OAI_PMH,
                    url=self.settings.oai_url,
                )
            answer = root.find(f"{_OAI}{first['verb']}")
            if answer is None:
                raise FetchError(
                    "the answer held neither records nor an error",
                    service=OAI_PMH,
                    url=self.settings.oai_url,
                )
            for record in answer.iterfind(f"{_OAI}record"):
                header = record.find(f"{_OAI}header")
                identifier = header.findtext(f"{_OAI}identifier") if header is not None else None
                if header is None or header.get("status") == "deleted" or identifier in seen:
                    continue
                seen.add(identifier or "")
                raw = record.find(f"{_OAI}metadata/{_RAW}arXivRaw")
                if raw is not None:
                    yield raw
            token = (answer.findtext(f"{_OAI}resumptionToken") or "").strip()
            if not token:
                return
            params = {"verb": first["verb"], "resumptionToken": token}


def paper_from_raw(raw: Any) -> Paper | None:
    """The paper an `arXivRaw` record describes, in its latest version; None without a
    usable id or version history."""
    base_id = _text(raw, "id")
    versions = []
    for version in raw.iterfind(f"{_RAW}version"):
        number = (version.get("version") or "").lstrip("v")
        submitted = rfc2822(version.findtext(f"{_RAW}date"))
        if number.isdigit() and submitted is not None:
            versions.append((int(number), submitted))
    if not base_id or not versions:
        return None
    versions.sort()
    arxiv_id = f"{base_id}v{versions[-1][0]}"
    if not is_arxiv_id(arxiv_id):  # it goes into URLs on a public page
        return None
    categories = tuple((_text(raw, "categories") or "").split())
    return Paper(
        arxiv_id=arxiv_id,
        title=_text(raw, "title") or "",
        authors=split_authors(_text(raw, "authors") or ""),
        categories=categories,
        primary_category=categories[0] if categories else "",
        abstract=_text(raw, "abstract") or "",
        published=versions[0][1],
        updated=versions[-1][1],
        comment=_text(raw, "comments"),
        journal_ref=_text(raw, "journal-ref"),
        doi=_text(raw, "doi"),
    )


def split_authors(text: str) -> tuple[str, ...]:
    """arXivRaw's one authors line as names: ``A, B (MIT) and C`` → A, B, C (affiliations,
    in parentheses, left out as the API leaves them out of names), with TeX accents as the
    API gives them (``Bal\\'azs`` → Balázs)."""
    while _PARENTHESES.search(text):
        text = _PARENTHESES.sub(" ", text)
    names = (" ".join(_from_tex(part).split()) for part in _AUTHOR_SEPARATOR.split(text))
    return tuple(name for name in names if name)


def _from_tex(name: str) -> str:
    if "\\" not in name and "{" not in name:
        return name
    return str(_latex_text().latex_to_text(name))


@functools.cache
def _latex_text() -> LatexNodes2Text:
    return LatexNodes2Text()


def _text(raw: Any, tag: str) -> str | None:
    text = raw.findtext(f"{_RAW}{tag}")
    return " ".join(text.split()) or None if text else None
