"""Reading what arXiv's services answer: XML parsed safely, and their dates.

Apart from the HTTP module, so that the commands that only render (the site, the posts)
never import an HTTP client, nor lxml (imported at the first parse).
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any


def parse_xml(content: bytes, *, huge: bool = False) -> Any:
    """The root element of an answer, None when it is not well-formed XML (entities are never
    resolved, nothing is fetched; `huge` lifts lxml's limits, for OAI-PMH's long pages)."""
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=huge)
    try:
        return etree.fromstring(content, parser=parser)
    except etree.XMLSyntaxError:
        return None


def rfc2822(text: str | None) -> datetime | None:
    """A date as RSS and arXivRaw write it (``Mon, 2 Apr 2007 19:18:42 GMT``), aware."""
    try:
        moment = parsedate_to_datetime(text or "")
    except (TypeError, ValueError):
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
