"""Code, demo and data links of a paper, found without a model: in its abstract, its arXiv
comment and the text of its PDF (before the reference list, which cites others' work).

URLs in PDF text come damaged: split at line ends (after a hyphen or a slash), glued
to a footnote mark (`2https://…`), followed by sentence punctuation (`.` `)` `。` `，`).
They are mended, kept only when they name a repository, a model, a dataset or a
project page, merged when they are the same, and typed: code, demo, data or page.
arXiv's own URLs are left out (the post links to arXiv already).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from arxiv_digest.models import Link

CODE, DEMO, DATA, PAGE = "code", "demo", "data", "page"

_SCHEME = re.compile(r"https?://", re.IGNORECASE)
_BARE_HOST = re.compile(
    r"(?<![\w/.@-])((?:www\.)?(?:github\.com|gitlab\.com|huggingface\.co|zenodo\.org)/"
    r"|[\w-]+\.github\.io\b)",
    re.IGNORECASE,
)
# What a URL may hold; anything else ends it.
_URL_CHARS = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'*+,;=%]+")
_TRAILING = ".,;:!?)]}'\"。，；：！？）】」』"
# A URL broken at the end of a line goes on with a path on the next one.
_CONTINUES = re.compile(r"[A-Za-z0-9\-._~/%#?=&]+")
# A next line that goes on with a path, not a sentence: it holds a separator or a digit.
_PATH_LIKE = re.compile(r"[/._\-0-9]")
_PROJECT_WORDS = re.compile(r"(?i)\b(?:demo|samples?|project|listen)\b")


def find_links(*texts: str | None) -> tuple[Link, ...]:
    """The paper's own links in `texts` (abstract, comment, PDF text), each once, in order."""
    found: dict[str, Link] = {}
    for text in texts:
        for url in _urls(text or ""):
            link = _typed(url)
            if link is not None:
                found.setdefault(_identity(link.url), link)
    return tuple(found.values())


def _urls(text: str) -> Iterable[str]:
    starts = sorted(
        [found.start() for found in _SCHEME.finditer(text)]
        + [found.start() for found in _BARE_HOST.finditer(text)]
    )
    taken = -1
    for start in starts:
        if start < taken:
            continue
        url, taken = _mended(text, start)
        url = url.rstrip(_TRAILING)
        if url.count("(") < url.count(")"):
            url = url[: url.rfind(")")]
        if not _SCHEME.match(url):
            url = f"https://{url}"
        yield url


def _mended(text: str, start: int) -> tuple[str, int]:
    """The URL at `start`, across the line breaks of a PDF, and where it ends."""
    parts = []
    position = start
    while True:
        found = _URL_CHARS.match(text, position)
        if found is None:
            break
        parts.append(found.group())
        position = found.end()
        # Broken at the end of a line, the URL goes on at the start of the next one when it
        # ended in a hyphen (LaTeX's \url breaks after one and adds none; PDFium's own
        # hyphenation marks are gone with the cleaning), or in a slash before a path.
        if text[position : position + 1] != "\n":
            break
        following = _CONTINUES.match(text, position + 1)
        piece = found.group()
        if following is None:
            break
        if not (
            piece.endswith("-") or (piece.endswith("/") and _PATH_LIKE.search(following.group()))
        ):
            break
        position += 1
    return "".join(parts), position


def _typed(url: str) -> Link | None:
    """The link with its kind, or None for what is not the paper's material."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower().removeprefix("www.")
    path = [segment for segment in parts.path.split("/") if segment]
    if not host or host.endswith("arxiv.org") or "." not in host:
        return None
    if host in ("github.com", "gitlab.com"):
        return Link(url, CODE) if len(path) >= 2 else None
    if host == "huggingface.co":
        if path[:1] == ["spaces"]:
            return Link(url, DEMO) if len(path) >= 3 else None
        if path[:1] == ["datasets"]:
            return Link(url, DATA) if len(path) >= 3 else None
        return Link(url, CODE) if len(path) >= 2 else None
    if host == "zenodo.org":
        return Link(url, DATA) if path else None
    if host.endswith(".github.io"):
        return Link(url, DEMO)
    if _PROJECT_WORDS.search(url):
        return Link(url, PAGE)
    return None


def _identity(url: str) -> str:
    """What makes two links the same: no scheme, no www, no trailing slash or `.git`, any case."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower().removeprefix("www.")
    path = parts.path.rstrip("/").removesuffix(".git").lower()
    return f"{host}{path}"
