"""Every URL a view writes, in one place: a paper's pages on arXiv, and the site's own paths
(each under the site's base path, which the templates prefix). The site's templates receive
this module as `urls`; a day's page is its post's permalink, which the Jekyll flavour owns.
"""

from __future__ import annotations

from datetime import date

from arxiv_digest.models import base_id
from arxiv_digest.views import jekyll

HOME = "/"
ARCHIVE = "/archive/"
SEARCH = "/search/"
TOPICS = "/topics/"
PAPERS = "/papers/"
FIGURES = "/figures/"
FEED = "/feed.xml"
NOT_FOUND = "/404.html"


def abs_url(arxiv_id: str) -> str:
    """The paper's abstract page on arXiv (posts and pages always link to arxiv.org)."""
    return f"https://arxiv.org/abs/{arxiv_id}"


def pdf_url(arxiv_id: str) -> str:
    return f"https://arxiv.org/pdf/{arxiv_id}"


def html_url(arxiv_id: str) -> str:
    """The paper's HTML version on arXiv (made by LaTeXML from its TeX source)."""
    return f"https://arxiv.org/html/{arxiv_id}"


def day(shown_on: date) -> str:
    """A day's page: its post's permalink, which `digest site` keeps."""
    return jekyll.day_url(shown_on)


def paper_anchor(arxiv_id: str) -> str:
    """A paper's fragment on its day page, the same for every version."""
    return "arxiv-" + base_id(arxiv_id).replace("/", "-")


def paper(shown_on: date, arxiv_id: str) -> str:
    """A paper on its day's page."""
    return f"{day(shown_on)}#{paper_anchor(arxiv_id)}"


def paper_page(arxiv_id: str) -> str:
    """A paper's own page, the same for every version (an old-style id keeps its slash:
    /papers/hep-th/9901001/)."""
    return f"{PAPERS}{base_id(arxiv_id)}/"


def figure(file: str) -> str:
    """A paper's figure on the site (`Figure.file`, as the figures folder names it)."""
    return f"{FIGURES}{file}"


def archive(year: int | None = None) -> str:
    """The archive's page of a year (None: its first page, the newest year)."""
    return f"{ARCHIVE}{year}/" if year else ARCHIVE


def topic(key: str, page: int = 1) -> str:
    """A topic's page: its newest papers first, then `page/2/` and on."""
    return f"{TOPICS}{key}/" if page <= 1 else f"{TOPICS}{key}/page/{page}/"


def topic_feed(key: str) -> str:
    return f"{topic(key)}feed.xml"


def output_file(url: str) -> str:
    """Where the page at a site path is written, relative to the site's folder (a folder's
    page is its index.html, as Pages serves it)."""
    path = url.lstrip("/")
    return f"{path}index.html" if not path or path.endswith("/") else path
