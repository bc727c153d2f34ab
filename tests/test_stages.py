"""The pure stages: windows, selection, answer checks, PDF text cleaning."""

from __future__ import annotations

import itertools
from datetime import UTC, date, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from arxiv_digest.answers import pdftext
from arxiv_digest.answers.tasks import ANALYSIS, TRANSLATION, AnswerError, AnswerRules, normalize
from arxiv_digest.config import FilterSettings
from arxiv_digest.models import Paper
from arxiv_digest.select import dedupe, select
from arxiv_digest.window import api_timestamp, window_for
from tests import corpus
from tests.conftest import SHARED

SHANGHAI = ZoneInfo("Asia/Shanghai")
RULES = AnswerRules()


def test_window_of_a_day_in_beijing_time() -> None:
    window = window_for(date(2026, 2, 13), time(8, 50), SHANGHAI)

    assert api_timestamp(window.start) == "202602120050"
    assert api_timestamp(window.end) == "202602130050"
    assert window.contains(corpus.at("2026-02-12T00:50:00"))
    assert window.contains(corpus.at("2026-02-13T00:49:59"))
    assert not window.contains(corpus.at("2026-02-13T00:50:00"))
    assert not window.contains(corpus.at("2026-02-12T00:49:00"))


@pytest.mark.parametrize(
    ("zone", "first", "anchor"),
    [
        ("America/New_York", date(2026, 3, 1), time(2, 30)),  # 02:30 does not exist on 8 March
        ("America/New_York", date(2026, 10, 25), time(1, 30)),  # 01:30 happens twice on 1 Nov
        ("Europe/London", date(2026, 3, 20), time(8, 50)),
        ("Australia/Lord_Howe", date(2026, 3, 25), time(0, 0)),  # a 30-minute DST shift
    ],
)
def test_consecutive_windows_tile_time_across_dst_changes(
    zone: str, first: date, anchor: time
) -> None:
    windows = [window_for(first + timedelta(days=n), anchor, ZoneInfo(zone)) for n in range(20)]

    for earlier, later in itertools.pairwise(windows):
        assert earlier.end.astimezone(UTC) == later.start.astimezone(UTC)
    lengths = {(w.end.astimezone(UTC) - w.start.astimezone(UTC)) for w in windows}
    assert lengths <= {
        timedelta(hours=h, minutes=m) for h, m in [(23, 0), (24, 0), (25, 0), (23, 30), (24, 30)]
    }
    assert timedelta(hours=24) in lengths and len(lengths) > 1


def paper(
    arxiv_id: str, minute: int, categories: tuple[str, ...] = ("cs.SD",), **fields: str
) -> Paper:
    return Paper(
        arxiv_id=arxiv_id,
        title=fields.get("title", f"Title {arxiv_id}"),
        authors=("A",),
        categories=categories,
        primary_category=categories[0],
        abstract=fields.get("abstract", "An abstract."),
        published=corpus.at("2026-02-12T12:00:00") + timedelta(minutes=minute),
    )


def test_dedupe_keeps_one_paper_per_id_the_latest_version() -> None:
    papers = [paper("2602.00001v1", 0), paper("2602.00001v2", 0), paper("2602.00002v1", 1)]

    assert sorted(p.arxiv_id for p in dedupe(papers)) == ["2602.00001v2", "2602.00002v1"]


def test_select_orders_newest_first_then_by_id_and_caps() -> None:
    window = window_for(date(2026, 2, 13), time(8, 50), SHANGHAI)
    papers = [paper("2602.00001v1", 5), paper("2602.00003v1", 5), paper("2602.00002v1", 9)]
    papers += [paper("2602.00004v1", 5, categories=("cs.CV",))]

    selection = select(papers, window, ["cs.SD", "eess.AS"], FilterSettings(max_papers=2))

    assert selection.in_window == 4
    assert [p.arxiv_id for p in selection.shown] == ["2602.00002v1", "2602.00003v1"]
    assert [(p.arxiv_id, why) for p, why in selection.not_shown] == [
        ("2602.00004v1", "arxiv.categories"),
        ("2602.00001v1", "filter.max_papers"),
    ]


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("  译文  \n", "译文"),
        ("```\n译文\n```", "译文"),
        ("```markdown\n第一段\n\n第二段\n```\n", "第一段\n\n第二段"),
        ("~~~md\n译文\n~~~", "译文"),
        ("```python\nprint(1)\n```\n后记", "```python\nprint(1)\n```\n后记"),
    ],
)
def test_normalize_strips_whitespace_and_a_wrapping_fence(answer: str, expected: str) -> None:
    assert normalize(answer) == expected


def test_check_wants_three_parts_in_an_analysis() -> None:
    good = "1)  \n- 背景\n\n2)  \n- 方法\n\n3)  \n- 结果"
    assert ANALYSIS.check(f"```\n{good}\n```", RULES) == good
    assert ANALYSIS.check("**1)** 背景\n**2）** 方法\n### 3) 结果", RULES)
    with pytest.raises(AnswerError, match=r"lacks part 3\)"):
        ANALYSIS.check("1) 背景\n2) 方法", RULES)
    with pytest.raises(AnswerError, match=r"lacks part 2\)"):
        ANALYSIS.check("1) 背景 2) 方法 3) 结果", RULES)
    with pytest.raises(AnswerError, match="empty answer"):
        TRANSLATION.check(" \n ", RULES)


def test_clean_text_mends_what_pdf_extraction_leaves() -> None:
    raw = (
        "Intro\r\nreverbera\x02tion and diffusion architec\x02\r\nture\x0b"
        " \ufb01ne e\ufb00ect\u00ad\r\n\r\n\r\n\r\nEnd\f2"
    )

    assert (
        pdftext.clean_text(raw)
        == "Intro\nreverberation and diffusion architecture fine effect\n\nEnd\n\n2"
    )


def test_cut_references_keeps_an_early_mention() -> None:
    body = "\n".join(f"Line {n}" for n in range(50))
    text = (
        f"Contents\nReferences\n{body}\n6. Conclusion\nDone.\n"
        "7. References\n[1] A. B, Title.\n[2] C. D."
    )

    cut = pdftext.cut_references(text)

    assert cut.endswith("6. Conclusion\nDone.")
    assert cut.startswith("Contents\nReferences\n")


PDFS = SHARED / "fixtures" / "pdf"


@pytest.mark.skipif(not PDFS.is_dir(), reason="../shared/fixtures is not present")
@pytest.mark.parametrize(
    ("name", "last_words_kept", "first_reference"),
    [
        (
            "interspeech2025-two-column.pdf",
            "successful completion of this work.",
            "Mutual learning for",
        ),
        (
            "arxiv-1111.2011v2.pdf",
            "Division of Materials Sciences and Engineering.",
            "D. C. Johnston",
        ),
    ],
)
def test_real_papers_lose_their_references_and_keep_their_results(
    name: str, last_words_kept: str, first_reference: str
) -> None:
    raw, page_count = pdftext.extract_text((PDFS / name).read_bytes(), max_pages=50)

    text = pdftext.model_input(raw, max_chars=100_000)

    assert page_count in (5, 8)
    assert text.endswith(last_words_kept)
    assert first_reference in raw and first_reference not in text
    assert "\x02" not in text and "\r" not in text
    assert len(text) > 0.5 * len(raw)
