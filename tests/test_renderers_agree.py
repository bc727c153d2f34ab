"""kramdown (the Jekyll pages) and our renderer (safe_html) read sanitized text alike: the
same elements in the same order (lists, items, emphasis, code, links, breaks), formulas aside
(MathJax typesets kramdown's, ours are MathML).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest

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


def answers(tmp_path: Path) -> list[str]:
    texts = [*corpus.TRANSLATIONS.values(), *corpus.ANALYSES.values()]
    texts += [*hostile.TRANSLATIONS.values(), *hostile.ANALYSES.values()]
    texts += ["正文一行\n=-=\n继续。", "正文一行\n-=-\n继续。"]  # kramdown's mixed underlines
    config = Bench.of(tmp_path).config
    for example in EXAMPLES:
        record = read_post(example, date.fromisoformat(example.name[:10]), config)
        texts += [answer.text for shown in record.papers for answer in shown.answers.values()]
    return texts


@pytest.mark.skipif(shutil.which("ruby") is None, reason="needs kramdown (bash .ci/run)")
def test_kramdown_and_our_renderer_read_sanitized_text_alike(tmp_path: Path) -> None:
    texts = [block(text) for text in answers(tmp_path)]
    assert len(texts) > 10

    for text, theirs in zip(texts, kramdown(texts), strict=True):
        ours = render_block(text)
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
