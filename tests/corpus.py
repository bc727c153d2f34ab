"""Our own test papers and canned model answers (invented for these tests)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from tests.standins import Answerer, FeedPaper, make_pdf

DAY = "2026-02-13"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# The window of 2026-02-13 in Asia/Shanghai is [2026-02-12 00:50Z, 2026-02-13 00:50Z).
PAPERS = [
    FeedPaper(
        arxiv_id="2602.20005v1",
        title="Breathing Room: Pause-Aware Prosody Transfer for Expressive TTS",
        authors=["Mei Lin", "Tomás Ruiz", "Ada Okafor"],
        categories=["eess.AS", "cs.SD", "cs.CL"],
        abstract="We model pauses explicitly when transferring prosody between speakers.\n"
        "  A pause predictor conditions the acoustic model, improving naturalness.",
        published=at("2026-02-13T00:49:59"),
    ),
    FeedPaper(
        arxiv_id="2602.20004v2",
        title="  Sparse   Codebooks for\n   Neural Audio Codecs at 1 kbps ",
        authors=["Jonas Berg", "Priya Natarajan"],
        categories=["cs.SD", "cs.LG"],
        abstract="Residual vector quantizers waste capacity at very low bitrates. We prune codebooks"
        " with a sparsity prior and keep quality at 1 kbps.",
        published=at("2026-02-12T18:00:00"),
        comment="Accepted to an invented\n  workshop; 5 pages",
        journal_ref="Invented Letters 1 (2026) 1-5",
        doi="10.0000/invented.2026.1",
    ),
    FeedPaper(
        arxiv_id="2602.20003v1",
        title="Listening in Rooms: Blind Reverberation Time Estimation with State-Space Models",
        authors=["Hana Sato"],
        categories=["eess.AS"],
        abstract="A Mamba encoder estimates T60 from single-channel speech without a reference.",
        published=at("2026-02-12T10:00:00"),
    ),
    FeedPaper(
        arxiv_id="2602.20001v1",
        title="Counting Speakers in Overlapped Meetings",
        authors=["Luca Bianchi", "Sofia Marques"],
        categories=["cs.CL", "cs.SD"],
        abstract="We count concurrent speakers frame by frame with a lightweight classifier.",
        published=at("2026-02-12T00:50:00"),
    ),
    # Outside the window on either side: at the closing anchor, and one minute before opening.
    FeedPaper(
        arxiv_id="2602.20002v1",
        title="A Paper Submitted Exactly at the Anchor",
        authors=["Boundary Case"],
        categories=["cs.SD"],
        abstract="Belongs to the next day's post.",
        published=at("2026-02-13T00:50:00"),
    ),
    FeedPaper(
        arxiv_id="2602.20000v1",
        title="A Paper Submitted One Minute Before the Window",
        authors=["Boundary Case"],
        categories=["eess.AS"],
        abstract="Belongs to the previous day's post.",
        published=at("2026-02-12T00:49:00"),
    ),
]

TRANSLATIONS = {
    "2602.20005v1": "我们在说话人之间迁移韵律时显式建模停顿。停顿预测器为声学模型提供条件，提升了自然度。",
    "2602.20004v2": "残差向量量化器在极低码率下浪费容量。我们以稀疏先验裁剪码本，在 1 kbps 下保持音质。\n\n"
    "第二段：实验覆盖语音与音乐两类信号。",
    "2602.20003v1": "一个 Mamba 编码器无需参考信号即可从单通道语音中估计 T60。",
    "2602.20001v1": "我们用轻量级分类器逐帧统计同时说话的人数。",
    "2602.20002v1": "属于下一天的帖子。",
    "2602.20000v1": "属于前一天的帖子。",
}


def analysis_for(title: str) -> str:
    return (
        "1)  \n"
        f"- **研究背景**：《{title}》关注的问题在实际系统中很常见。  \n"
        "- **既有方法问题**：已有方法依赖强假设，泛化能力有限。\n"
        "\n"
        "2)  \n"
        "- **核心方法**：提出新的建模方式，直接针对上述缺陷。  \n"
        "  - **关键设计**：引入轻量模块，代价很小。\n"
        "\n"
        "3)  \n"
        "- **任务**：在公开基准上评测。  \n"
        "- **效果**：主要指标优于基线。"
    )


ANALYSES = {paper.arxiv_id: analysis_for(" ".join(paper.title.split())) for paper in PAPERS}


def model_answers() -> dict[tuple[str, str], str]:
    answers: dict[tuple[str, str], str] = {}
    for arxiv_id, text in TRANSLATIONS.items():
        answers[(arxiv_id, "translation")] = text
    for arxiv_id, text in ANALYSES.items():
        answers[(arxiv_id, "analysis")] = text
    # Models like to wrap answers in a fence and in blank lines; normalization removes both.
    answers[("2602.20003v1", "analysis")] = f"\n```markdown\n{ANALYSES['2602.20003v1']}\n```\n"
    answers[("2602.20001v1", "translation")] = f"\n\n  {TRANSLATIONS['2602.20001v1']}  \n"
    return answers


def slow_analyses(seconds: float) -> Answerer:
    """Canned answers, the analyses only after `seconds`: a build to interrupt midway."""
    answers = model_answers()

    def answer(arxiv_id: str, task: str, request: dict[str, Any]) -> str:
        if task == "analysis":
            time.sleep(seconds)
        return answers[(arxiv_id, task)]

    return answer


def paper_pdf(paper: FeedPaper, body_lines: int = 40) -> bytes:
    lines = [" ".join(paper.title.split()), *paper.authors, "Abstract"]
    lines += [f"Method section line {n} of {paper.arxiv_id}." for n in range(body_lines)]
    return make_pdf(
        [lines, ["Results: our method wins.", "References", "[1] A. Author, Old work."]]
    )


def pdfs() -> dict[str, bytes]:
    return {paper.arxiv_id: paper_pdf(paper) for paper in PAPERS}
