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
FEED = "/feed.xml"
NOT_FOUND = "/404.html"


def abs_url(arxiv_id: str) -> str:
    """The paper's abstract page on arXiv (posts and pages always link to arxiv.org)."""
    return f"https://arxiv.org/abs/{arxiv_id}"


def pdf_url(arxiv_id: str) -> str:
    return f"https://arxiv.org/pdf/{arxiv_id}"


def day(shown_on: date) -> str:
    """A day's page: its post's permalink, which `digest site` keeps."""
    return jekyll.day_url(shown_on)


def paper_anchor(arxiv_id: str) -> str:
    """A paper's fragment on its day page, the same for every version."""
    return "arxiv-" + base_id(arxiv_id).replace("/", "-")


def paper(shown_on: date, arxiv_id: str) -> str:
    """A paper on its day's page."""
    return f"{day(shown_on)}#{paper_anchor(arxiv_id)}"


def topic(key: str) -> str:
    return f"{TOPICS}{key}/"


def topic_feed(key: str) -> str:
    return f"{topic(key)}feed.xml"


def output_file(url: str) -> str:
    """Where the page at a site path is written, relative to the site's folder (a folder's
    page is its index.html, as Pages serves it)."""
    path = url.lstrip("/")
    return f"{path}index.html" if not path or path.endswith("/") else path
