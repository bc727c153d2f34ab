"""What a view may say about a paper beyond its record's fields, derived from them: the
venue its arXiv comment plainly names, whether it is a revised version, and which of
the site's interests it matches. Derived, so never stored: a better rule re-renders.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from arxiv_digest.models import Paper

# Venues of audio and speech work, as comments write them.
_VENUE = re.compile(
    r"\b(ICASSP|INTERSPEECH|Interspeech|NeurIPS|NIPS|ICLR|ICML|ACL|EMNLP|NAACL|EACL|AAAI|IJCAI"
    r"|CVPR|ICCV|ECCV|SLT|ASRU|WASPAA|EUSIPCO|ISMIR|DCASE|Odyssey|ICME|ACM\s?MM|SIGGRAPH"
    r"|IEEE/ACM\s+TASLP|TASLP|IEEE\s+SPL|JASA|IEEE\s+JSTSP|Speech\s+Communication)"
    r"(?:\s*['’]?\s*((?:19|20)\d{2}|\d{2})\b)?"
)
# A comment names a venue plainly when it says the paper is in it, not merely sent to it.
_ACCEPTED = re.compile(
    r"(?i)\b(?:accepted|to appear|appears? in|published|camera[- ]ready|in proceedings)\b"
)


def venue(comment: str | None) -> str | None:
    """The venue an arXiv comment says the paper was accepted at, e.g. ``ICASSP 2026``."""
    if not comment or not _ACCEPTED.search(comment) or re.search(r"(?i)\bsubmitted\b", comment):
        return None
    found = _VENUE.search(comment)
    if found is None:
        return None
    name = " ".join(found.group(1).split())
    year = found.group(2)
    if year and len(year) == 2:
        year = f"20{year}"
    return f"{name} {year}" if year else name


def revised(paper: Paper) -> bool:
    """Whether the version shown is a revision (v2 or later)."""
    return paper.version >= 2


def interests_of(paper: Paper, interests: Iterable[str]) -> list[str]:
    """The site's interests the paper matches: a keyword in its title or abstract, or the
    name of one of its authors (case-insensitive)."""
    text = f"{paper.title}\n{paper.abstract or ''}".casefold()
    authors = {author.casefold() for author in paper.authors}
    return [
        interest
        for interest in interests
        if interest.strip()
        and (interest.casefold() in text or interest.casefold().strip() in authors)
    ]
