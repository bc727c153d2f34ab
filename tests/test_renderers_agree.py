"""kramdown (the Jekyll pages) and our renderer (safe_html) read sanitized text alike: the
same elements in the same order (lists, items, emphasis, code, links, breaks), formulas aside
(MathJax typesets kramdown's, ours are MathML).
"""

from __future__ import annotations

import json
import random
import re
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest

from arxiv_digest.views import sanitize
from arxiv_digest.views.importer import read_post
from arxiv_digest.views.safe_html import render_block
from arxiv_digest.views.sanitize import block
from tests import corpus, hostile
from tests.inprocess import Bench
from tests.test_reference_posts import EXAMPLES

KRAMDOWN = """
require 'json'
require 'kramdown'
require 'kramdown-parser-gfm'
texts = JSON.parse(STDIN.read)
# As _config.yml configures it for Jekyll: GFM input, no hard wraps.
puts JSON.generate(texts.map { |text| Kramdown::Document.new(text, input: 'GFM', hard_wrap: false).to_html })
"""
STRUCTURE = {"ul", "ol", "li", "strong", "em", "code", "pre", "a", "h2", "br", "hr",
             "blockquote", "table", "img", "details", "del", "dl", "abbr", "sup"}  # fmt: skip
# Not div: Jekyll wraps highlighted code in two. Not p: the two grammars define loose lists
# differently, so an item's text may or may not sit in a <p> (spacing, not meaning).
_MATHML = re.compile(r"<math\b.*?</math>", re.DOTALL)
_TAG = re.compile(r"<(/?)([a-z0-9]+)\b[^>]*>")


def elements(html: str) -> list[str]:
    """The structural tags of `html`, in order, formulas left out."""
    return [
        f"{closing}{name}"
        for closing, name in _TAG.findall(_MATHML.sub("", html))
        if name in STRUCTURE
    ]


def kramdown(texts: list[str]) -> list[str]:
    ruby = shutil.which("ruby")
    assert ruby, "ruby (with Debian's jekyll) is missing: run `bash .ci/run`"
    done = subprocess.run(
        [ruby, "-e", KRAMDOWN], input=json.dumps(texts), capture_output=True, text=True,
        timeout=120, check=True,
    )  # fmt: skip
    return list(json.loads(done.stdout))


# What models write: bold beside Chinese that CommonMark alone leaves as asterisks.
CJK_EMPHASIS = [
    "1)  \n- **实验效果**：WER 降至**3.2%**，优于基线。",
    "准确率达到**99.40%**的水平，这是**“显著”**提升，*斜体*的说明。",
]


def answers(tmp_path: Path) -> list[str]:
    texts = [*corpus.TRANSLATIONS.values(), *corpus.ANALYSES.values()]
    texts += [*hostile.TRANSLATIONS.values(), *hostile.ANALYSES.values()]
    texts += ["正文一行\n=-=\n继续。", "正文一行\n-=-\n继续。"]  # kramdown's mixed underlines
    texts += CJK_EMPHASIS
    config = Bench.of(tmp_path).config
    for example in EXAMPLES:
        record = read_post(example, date.fromisoformat(example.name[:10]), config)
        texts += [answer.text for shown in record.papers for answer in shown.answers.values()]
    return texts


@pytest.mark.skipif(shutil.which("ruby") is None, reason="needs kramdown (bash .ci/run)")
def test_kramdown_and_our_renderer_read_sanitized_text_alike(tmp_path: Path) -> None:
    raw = answers(tmp_path)
    texts = [block(text) for text in raw]
    assert len(texts) > 10

    for text, original, theirs in zip(texts, raw, kramdown(texts), strict=True):
        ours = render_block(block(original, emphasis_marks=True))
        assert elements(ours) == elements(theirs), text[:200]


GLUED = [
    ("代码将在https://github.com/x/y 发布", "https://github.com/x/y"),
    ("代码见https://github.com/x/y。", "https://github.com/x/y"),
    ("演示页面https://x.github.io/demo/发布于此", "https://x.github.io/demo/"),
]


@pytest.mark.skipif(shutil.which("ruby") is None, reason="needs kramdown (bash .ci/run)")
@pytest.mark.parametrize(("text", "url"), GLUED)
def test_a_url_glued_to_chinese_is_a_link_to_where_the_url_ends(text: str, url: str) -> None:
    safe = block(text)
    (theirs,) = kramdown([safe])
    for html in (render_block(safe), theirs):
        links = re.findall(r'<a href="([^"]*)"[^>]*>([^<]*)</a>', html)
        assert links == [(url, url)], html


@pytest.mark.skipif(shutil.which("ruby") is None, reason="needs kramdown (bash .ci/run)")
def test_cjk_friendly_emphasis_adds_no_disagreement_with_kramdown() -> None:
    """On hostile mixes of asterisks, CJK text and punctuation, every text both renderers
    read alike without the amendment they read alike with it (they already differ on some,
    e.g. nested emphasis or an empty list item, as they did before)."""
    pieces = ["的", "中", "文", "。", "，", "“", "”", "（", "）", "%", "9.4", " ", "*", "**", "**",
              "a", "_", "`", "\n", "-", "："]  # fmt: skip
    chosen = random.Random(20260213)

    def some(most: int) -> str:
        return "".join(chosen.choice(pieces) for _ in range(chosen.randint(0, most)))

    texts = [some(18) for _ in range(750)]  # noise, and an emphasis' shape in it:
    for _ in range(750):
        delimiter = chosen.choice(["*", "**"])
        inner = some(4).replace("\n", "") or "文"
        texts.append(f"{some(4)}{delimiter}{inner}{delimiter}{some(4)}")
    with_it = [block(text) for text in texts]
    ours_with = [render_block(block(text, emphasis_marks=True)) for text in texts]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sanitize, "cjk_emphasis", lambda *_: [])
        without = [block(text) for text in texts]
        ours_without = [render_block(text) for text in without]
    assert sum(a != b for a, b in zip(with_it, without, strict=True)) > 20  # it was at work
    agreed_without = {
        index
        for index, (ours, theirs) in enumerate(zip(ours_without, kramdown(without), strict=True))
        if elements(ours) == elements(theirs)
    }
    theirs_with = kramdown(with_it)
    for index in agreed_without:
        assert elements(ours_with[index]) == elements(theirs_with[index]), texts[index]
