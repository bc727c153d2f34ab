"""What a view may say about a paper beyond its record's fields, derived from them: the
venue its arXiv comment plainly names, whether it is a revised version, and which of
the site's interests it matches. Derived, so never stored: a better rule re-renders.
"""

from __future__ import annotations

import re
import unicodedata
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


def bibtex(paper: Paper) -> str:
    """A BibTeX entry for the paper as arXiv's own export writes one (`@misc` with `eprint`,
    `archivePrefix` and `primaryClass`), keyed `{first author's surname}{year}{first word}`."""
    year = paper.published.year if paper.published else _year_of_id(paper.base_id)
    surname = paper.authors[0].split()[-1] if paper.authors and paper.authors[0].split() else ""
    first_word = next((word for word in re.findall(r"[A-Za-z]+", paper.title) if len(word) > 3), "")
    key = re.sub(r"[^a-z0-9]", "", f"{_ascii(surname)}{year or ''}{first_word}".lower()) or "arxiv"
    fields = [
        ("title", _braced(" ".join(paper.title.split()))),
        ("author", _braced(" and ".join(paper.authors))),
        ("year", str(year or "")),
        ("eprint", paper.base_id),
        ("archivePrefix", "arXiv"),
        (
            "primaryClass",
            paper.primary_category or (paper.categories[0] if paper.categories else ""),
        ),
        ("url", f"https://arxiv.org/abs/{paper.base_id}"),
    ]
    if paper.doi:
        fields.append(("doi", paper.doi))
    lines = [f"  {name} = {{{value}}}" for name, value in fields if value]
    return "@misc{" + key + ",\n" + ",\n".join(lines) + "\n}"


def _year_of_id(base: str) -> int | None:
    """The year a new-style id was issued in (2602.… → 2026)."""
    found = re.fullmatch(r"(\d{2})\d{2}\.\d{4,5}", base)
    return 2000 + int(found.group(1)) if found else None


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def _braced(text: str) -> str:
    """`text` safe inside a BibTeX field's braces: unbalanced braces are escaped."""
    text = text.rstrip("\\").rstrip()  # a trailing backslash would escape the closing brace
    if "{" not in text and "}" not in text:
        return text
    depth = 0
    for character in text:
        depth += {"{": 1, "}": -1}.get(character, 0)
        if depth < 0:
            break
    if depth == 0:
        return text
    return text.replace("{", r"\{").replace("}", r"\}")
