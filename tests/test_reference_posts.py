"""The contract with existing sites: given the same model answers, `digest build`
writes the reference posts of ../shared/examples/ byte for byte.

The posts are read at test time (their text is not copied into this repository):
each is taken apart into the papers and answers it shows, those are served by
the stand-in arXiv and model, and the post `digest` writes is compared whole.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import SHARED, Site
from tests.corpus import paper_pdf
from tests.standins import FeedPaper

EXAMPLES = sorted((SHARED / "examples").glob("*-arxiv.md"))

_HEADER = re.compile(
    r"- 时间窗口（锚点 (?P<anchor>\d\d:\d\d) \w+）：.* — (?P<end>\d{4}-\d\d-\d\d \d\d:\d\d)\n"
    r"- 抓取总数：(?P<fetched>\d+) 篇 \| 本页显示：(?P<shown>\d+) 篇"
)
_ENTRY = re.compile(
    r"^## (?P<title>.*)\n"
    r"- \*\*Authors\*\*: (?P<authors>.*)\n"
    r"- \*\*Categories\*\*: (?P<categories>.*)\n"
    r"- \*\*arXiv\*\*: \[https://arxiv\.org/abs/(?P<id>[^\]]+)\]\(.*\)\n"
    r"- \*\*PDF\*\*: .*\n\n"
    r"(?P<translation>[\s\S]*?)\n\n"
    r"(?:<details>\n<summary>详细解读</summary>\n\n<div markdown=\"1\">\n\n"
    r"(?P<analysis>[\s\S]*?)\n</div>\n\n</details>\n\n)?"
    r"---\n",
    re.MULTILINE,
)


def _autolink(found: re.Match[str]) -> str:
    url = found.group().rstrip(".,;:!?'*")
    return f"<{url}>{found.group()[len(url) :]}"


def with_declared_fixes(post: str) -> str:
    """The reference post as this tool renders it, with the fixes the README declares:
    formulas written \\( ... \\) or \\[ ... \\] in kramdown's $$ ... $$, the header's `|`
    escaped so that kramdown reads no table, and bare URLs in the text written <…> so that
    they are links. Nothing else changes."""
    post = re.sub(r"(?<![\w<(\[])https?://[A-Za-z0-9\-._~:/?#@!&'*+,;=%]+", _autolink, post)
    post = re.sub(
        r"\\\((.+?)\\\)|\\\[(.+?)\\\]",
        lambda formula: f"$${formula.group(1) or formula.group(2)}$$",
        post,
    )
    return post.replace(" 篇 | 本页显示：", " 篇 \\| 本页显示：")


@dataclass
class ReferencePost:
    day: date
    anchor: str
    fetched: int
    papers: list[FeedPaper]
    answers: dict[tuple[str, str], str]


def read_reference(path: Path) -> ReferencePost:
    text = path.read_text(encoding="utf-8")
    header = _HEADER.search(text)
    assert header is not None, f"{path.name}: header not recognised"
    zone = ZoneInfo("Asia/Shanghai")
    window_end = datetime.strptime(header["end"], "%Y-%m-%d %H:%M").replace(tzinfo=zone)
    papers, answers = [], {}
    for index, entry in enumerate(_ENTRY.finditer(text)):
        arxiv_id = entry["id"]
        papers.append(
            FeedPaper(
                arxiv_id=arxiv_id,
                title=entry["title"],
                authors=entry["authors"].split(", "),
                categories=entry["categories"].split(", "),
                abstract=f"The English abstract of {arxiv_id}.",
                # Newest first in the post: published times fall with the position.
                published=window_end - timedelta(minutes=index + 1),
            )
        )
        answers[(arxiv_id, "translation")] = entry["translation"]
        if entry["analysis"] is not None:
            answers[(arxiv_id, "analysis")] = entry["analysis"]
    assert len(papers) == int(header["shown"]), f"{path.name}: not every entry was recognised"
    return ReferencePost(
        day=window_end.date(), anchor=header["anchor"], fetched=int(header["fetched"]),
        papers=papers, answers=answers,
    )  # fmt: skip


@pytest.mark.skipif(not EXAMPLES, reason="../shared/examples is not present")
@pytest.mark.parametrize("example", EXAMPLES, ids=[path.name for path in EXAMPLES])
def test_build_reproduces_reference_post_byte_for_byte(site: Site, example: Path) -> None:
    reference = read_reference(example)
    site.arxiv.papers = list(reference.papers)
    # Papers in the window beyond those shown: older than every shown one, cut by the cap.
    window_start = reference.papers[-1].published - timedelta(hours=1)
    for number in range(reference.fetched - len(reference.papers)):
        site.arxiv.papers.append(
            FeedPaper(
                arxiv_id=f"9999.{number:05d}v1", title="Not shown", authors=["A"],
                categories=["cs.SD"], abstract="Cut by the cap.", published=window_start,
            )
        )  # fmt: skip
    site.pdfs.pdfs = {paper.arxiv_id: paper_pdf(paper) for paper in reference.papers}
    site.model.answers = reference.answers
    site.write_config(
        window={"anchor": reference.anchor}, filter={"max_papers": len(reference.papers)}
    )

    run = site.digest("build", "--date", reference.day.isoformat())

    assert run.status == 0, run.stderr
    expected = with_declared_fixes(example.read_text(encoding="utf-8"))
    assert site.post(reference.day.isoformat()).read_text(encoding="utf-8") == expected
    assert site.post(reference.day.isoformat()).read_bytes() == expected.encode("utf-8")
    shown_ids = {paper.arxiv_id for paper in reference.papers}
    assert {arxiv_id for arxiv_id, _ in site.model.calls} == shown_ids
