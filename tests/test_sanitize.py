"""The sanitizer: what untrusted text can no longer do, checked on the parse of its output.

The checks here read the output the way the site's renderer does (pulldown-cmark);
tests/test_jekyll.py reads it the way kramdown does, in real Jekyll.
"""

from __future__ import annotations

import html
import re
import unicodedata
from datetime import date
from datetime import time as time_of_day
from zoneinfo import ZoneInfo

import pyromark
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from arxiv_digest.models import Answer, Paper
from arxiv_digest.record import SCHEMA, DayRecord, RecordWindow, ShownPaper
from arxiv_digest.templating import default_templates_dir, template_environment
from arxiv_digest.views import sanitize
from arxiv_digest.views.day import ViewSettings, day_view
from arxiv_digest.views.post import post_context, render_post
from arxiv_digest.views.sanitize import block, inline, normalize
from arxiv_digest.window import window_for

OPTIONS = (
    pyromark.Options.ENABLE_TABLES
    | pyromark.Options.ENABLE_STRIKETHROUGH
    | pyromark.Options.ENABLE_MATH
    | pyromark.Options.ENABLE_FOOTNOTES
)
ALLOWED = {
    "Paragraph", "List", "Item", "Emphasis", "Strong", "Link", "CodeBlock",
    "Text", "Code", "DisplayMath", "SoftBreak", "HardBreak",
}  # fmt: skip


def constructs(markdown: str) -> list[tuple[str, object]]:
    """Every construct a CommonMark parser (with GFM tables, footnotes, math) reads."""
    found = []
    for event, _ in pyromark.events_with_range(markdown, options=OPTIONS):
        if isinstance(event, str):
            found.append((event, None))
            continue
        ((kind, value),) = event.items()
        if kind in ("Start", "End"):
            name = value if isinstance(value, str) else next(iter(value))
            detail = None if isinstance(value, str) else next(iter(value.values()))
            found.append((name, detail))
        else:
            found.append((kind, value))
    return found


# In text that CommonMark reads literally, what kramdown would still read as syntax.
KRAMDOWN_ACTIVE = re.compile(
    r"(?<!\\)(?:\||\{[:#]|<[A-Za-z/!?]|\$|~~|\[|\]|^[ \t]*:)", re.MULTILINE
)


def assert_only_allowed(markdown: str) -> None:
    for name, detail in constructs(markdown):
        assert name in ALLOWED, (name, markdown)
        if name == "Link" and detail is not None:  # its start, which carries the target
            assert isinstance(detail, dict)
            assert (
                re.match(r"(?i)(https?|mailto):", detail["dest_url"])
                or detail["link_type"] == "Email"
            ), detail
        if name == "CodeBlock" and detail is not None:
            assert "Fenced" in detail, detail
    assert not pyromark.reference_definitions(markdown), markdown
    source = markdown.encode("utf-8")
    in_code = False
    for event, span in pyromark.events_with_range(markdown, options=OPTIONS):
        if isinstance(event, dict) and ("Start" in event or "End" in event):
            marker = event.get("Start", event.get("End"))
            if (isinstance(marker, dict) and "CodeBlock" in marker) or marker == "CodeBlock":
                in_code = "Start" in event
        if isinstance(event, dict) and "Text" in event and not in_code:
            line_start = source.rfind(b"\n", 0, span["start"]) + 1
            text = source[line_start : span["end"]].decode("utf-8")
            found = KRAMDOWN_ACTIVE.search(text, span["start"] - line_start)
            # A line-start `:` counts only where the text itself starts the line.
            assert found is None or (
                found.group().strip() == ":" and source[line_start : span["start"]].strip()
            ), (text, markdown)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # kramdown reads a table in any first line with a `|`, a formula's included.
        ("概率 p(y|x) 很高", "概率 p(y\\|x) 很高"),
        ("$$p(y|x)$$ 很高", "$$p(y\\vert x)$$ 很高"),
        # A bracket's entity, written in one pass, is not broken by the next (found by
        # hypothesis: a setext heading escaped whole after its bracket was).
        ("\t]\r=", "&#93;\n\\="),
        # A norm's double bar is \Vert, not a line break followed by "vert".
        ("$$\\|w\\|_2 + |x|$$", "$$\\Vert w\\Vert_2 + \\vert x\\vert$$"),
        # A fence's info string with a space: one canonical fence, always closed.
        ('```python title="demo.py"\n<script>alert(1)</script>\n```', "```python\n<script>alert(1)</script>\n```"),
        ("正文\n\n```\n<script>alert(1)</script>", "正文\n\n```\n<script>alert(1)</script>\n```"),
        # A link whose target starts on the next line, in a quote, after a carriage return.
        ("[主页](\njavascript:alert(1))", "&#91;主页&#93;(\njavascript\\:alert(1))"),
        ("> [x]: javascript:alert(1)\n\n[x]", "\\> &#91;x&#93;\\: javascript\\:alert(1)\n\n&#91;x&#93;"),
        ("a\r## 新论文\r[x]: javascript:1", "a\n\\#\\# 新论文\n&#91;x&#93;\\: javascript\\:1"),
        # Images, dishonest links, abbreviations, footnotes, raw HTML, kramdown extensions.
        ("![](https://e.com/p.gif)", "\\!&#91;&#93;(https\\://e\\.com/p\\.gif)"),
        ("[https://arxiv.org/abs/1](https://evil.com)", "&#91;https\\://arxiv\\.org/abs/1&#93;(https\\://evil\\.com)"),
        ("*[arXiv]: 恶意\n\narXiv", "\\*&#91;arXiv&#93;: 恶意\n\narXiv"),
        ("注[^1]\n\n[^1]: 脚注", "注&#91;^1&#93;\n\n&#91;^1&#93;\\: 脚注"),
        ("</div>\n</details>\n<img src=x onerror=alert(1)>", "\\</div\\>\n\\</details\\>\n\\<img src\\=x onerror\\=alert(1)\\>"),
        ("x {: onclick='y'} {::nomarkdown}", "x \\{: onclick='y'} \\{::nomarkdown}"),
        ("---\n\n## 标题\n\n文本\n===", "\\-\\-\\-\n\n\\#\\# 标题\n\n文本\n\\=\\=\\="),
        # Emphasis beside Chinese that only the CJK-friendly amendment pairs: kept (kramdown
        # reads it too); a stray or split run of asterisks is not.
        ("准确率达到**99.40%**的水平", "准确率达到**99.40%**的水平"),
        ("- **研究背景**：准确率**99.40%**的", "- **研究背景**：准确率**99.40%**的"),
        ("准确率**99.40%的水平", "准确率\\*\\*99.40%的水平"),
        # kramdown underlines a heading with any run of = and -; CommonMark reads text.
        ("正文一行\n=-=\n继续。", "正文一行\n\\=-=\n继续。"),
        ("正文一行\n  -=-\n继续。", "正文一行\n  \\-=-\n继续。"),
        # Control and bidi characters are gone before anything else.
        ("反\u202e转\u202c 与 \x07铃", "反转 与 铃"),
        # Only the template writes a paper's metadata lines.
        ("- **arXiv**: [https://evil.example/x](https://evil.example/x)", "- \\*\\*arXiv\\*\\*: [https://evil.example/x](https://evil.example/x)"),
        ("- **PDF**：镜像", "- \\*\\*PDF\\*\\*：镜像"),
        ("- **研究背景**：arXiv 与 PDF", "- **研究背景**：arXiv 与 PDF"),
        # What may stay, stays byte for byte.
        ("1)  \n- **研究背景**：`<think>` 标签。  \n  - 嵌套", "1)  \n- **研究背景**：`<think>` 标签。  \n  - 嵌套"),
        ("[代码](https://github.com/a/b) 与 <https://e.com>", "[代码](https://github.com/a/b) 与 <https://e.com>"),
        ("\\( l_k = \\sum_{i} a_i \\) 与 \\[ x \\]", "$$ l_k = \\sum_{i} a_i $$ 与 $$ x $$"),
    ],
)  # fmt: skip
def test_block(text: str, expected: str) -> None:
    assert block(text) == expected
    assert_only_allowed(expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("SPO-CLAPScore: Enhancing CLAP-based Alignment!", "SPO-CLAPScore: Enhancing CLAP-based Alignment!"),
        ("On $\\ell_1$ Codecs", "On $$\\ell_1$$ Codecs"),
        ("<script>alert(1)</script>", "\\<script\\>alert(1)\\</script\\>"),
        ("A [link](https://e.com) | and a pipe", "A &#91;link&#93;(https\\://e\\.com) \\| and a pipe"),
        ("1. Not a list", "1. Not a list"),
        # arXiv's fields are plain text: no emphasis, code or link is read into them.
        ("What the __init__ of a *Speech* Model Learns", "What the \\_\\_init\\_\\_ of a \\*Speech\\* Model Learns"),
        ("**Bold** Claim, _Under_ Score", "\\*\\*Bold\\*\\* Claim, \\_Under\\_ Score"),
        ("A `code` span", "A \\`code\\` span"),
        ("达到**99.40%**的", "达到\\*\\*99.40%\\*\\*的"),  # the CJK-friendly kind neither
    ],
)  # fmt: skip
def test_inline(text: str, expected: str) -> None:
    assert inline(text) == expected
    assert_only_text(f"x {expected}")  # as the middle of a line, where it stands


def assert_only_text(markdown: str) -> None:
    """What a one-line field may hold: text and formulas, in one paragraph."""
    for name, _ in constructs(markdown):
        assert name in ("Paragraph", "Text", "InlineMath", "DisplayMath"), (name, markdown)


HOSTILE = st.text(
    alphabet=st.sampled_from(
        [*list("ab中 \n\r\t*_`~[]()<>!#|:{}$\\-=>+.&;\"'/^%"), "\u202e", "\x00"]
    ),
    max_size=120,
)


def test_the_invisible_characters_are_unicodes_own() -> None:
    """The sanitizer's hard-coded class is every control, format (but the zero-width
    joiners), surrogate and private-use character of this Python's Unicode database."""
    expected = {
        chr(code)
        for code in range(0x110000)
        if unicodedata.category(chr(code)) in ("Cc", "Cf", "Cs", "Co")
        and chr(code) not in "\t\n\r\u200c\u200d"
    }
    kept = {char for char in expected if normalize(f"a{char}b") == f"a{char}b"}
    assert kept == set()
    # normalize's fast path: whatever it removes or replaces is unprintable to Python.
    changed = {chr(code) for code in range(0x110000) if sanitize._INVISIBLE.match(chr(code))} | {
        "\u2028",
        "\u2029",
    }
    assert len(changed) > 1000 and all(not char.isprintable() for char in changed)
    assert normalize("a\u200db\u2028c\r\nd") == "a\u200db c\nd"


def alphanumerics(text: str) -> str:
    return "".join(char for char in text if char.isalnum())


@settings(max_examples=600, deadline=None)
@given(HOSTILE)
def test_any_text_comes_out_allowed_whole_and_stable(text: str) -> None:
    # A fence's info string beyond its first word is shown by no renderer; left out here.
    assume(not re.search(r"^ {0,3}(`{3,}|~{3,})[^\n]*\S\s+\S", normalize(text), re.MULTILINE))
    safe = block(text)

    assert_only_allowed(safe)
    # No text is lost: every letter is still there, in order (entities and \vert decoded).
    shown = html.unescape(re.sub(r"\\[vV]ert ?", "|", safe))
    assert alphanumerics(shown) == alphanumerics(normalize(text))
    assert block(safe) == safe


# Mostly what the fast path takes: block markers and punctuation, few inline marks.
PLAINISH = st.text(alphabet=st.sampled_from(list("ab中 \n\t1()!#:-=>+.;\"'/^%、*")), max_size=80)


@settings(max_examples=600, deadline=None)
@given(st.one_of(HOSTILE, PLAINISH))
def test_the_fast_path_gives_what_the_parse_gives(text: str) -> None:
    """Text the fast path passes by (`is_plain`) is text the parse would leave alone."""
    for inline_only in (False, True):
        source = normalize(text) if not inline_only else " ".join(normalize(text).split())
        if sanitize.is_plain(source, inline_only=inline_only):
            assert sanitize._settled(source, inline_only=inline_only)[0] == source, inline_only


def test_the_fast_path_takes_plain_prose_and_nothing_else() -> None:
    prose = "本文提出一种方法，在 LibriSpeech 上的 WER 降低 12.5%。\n第二行：结果（见表 2）。"
    assert sanitize.is_plain(prose, inline_only=False)
    for marked in (
        "- 条目",
        "1. 条目",
        "> 引用",
        "# 标题",
        "    缩进",
        " \t缩进",
        "a $$x$$",
        "a_b",
        ": 定义",
    ):
        assert not sanitize.is_plain(f"{prose}\n{marked}", inline_only=False), marked
    assert sanitize.is_plain("- not a list in a title", inline_only=True)


@settings(max_examples=300, deadline=None)
@given(HOSTILE)
def test_any_one_line_field_comes_out_as_inline_text(text: str) -> None:
    safe = inline(text)
    assert "\n" not in safe
    assert_only_allowed(f"x {safe}")
    assert_only_text(f"x {safe}")
    assert inline(safe) == safe


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(HOSTILE, HOSTILE, HOSTILE, HOSTILE), min_size=1, max_size=4))
def test_posts_keep_one_block_per_paper_whatever_the_text(
    texts: list[tuple[str, str, str, str]],
) -> None:
    window = window_for(date(2026, 2, 13), time_of_day(8, 50), ZoneInfo("Asia/Shanghai"))
    entries = tuple(
        ShownPaper(
            paper=Paper(
                arxiv_id=f"2602.{n:05d}v1", title=title or "t", authors=(author or "a",),
                categories=("cs.SD",), primary_category="cs.SD", abstract="x",
                published=window.start,
            ),
            answers={
                "translation": Answer(translation or "译", "m", "0"),
                "analysis": Answer(analysis or "1)\n2)\n3)", "m", "0"),
            },
        )
        for n, (title, author, translation, analysis) in enumerate(texts)
    )  # fmt: skip
    record = DayRecord(
        schema=SCHEMA, day=window.day,
        window=RecordWindow("Asia/Shanghai", window.start, window.end),
        in_window=len(entries), papers=entries,
    )  # fmt: skip
    text = render_post(
        template_environment(default_templates_dir()),
        post_context(day_view(record, ViewSettings(["cs.SD"])), ViewSettings(["cs.SD"])),
    )

    lines = text.split("\n")
    assert sum(line.startswith("## ") for line in lines) == len(entries)
    assert lines.count("<details>") == lines.count("</details>") == len(entries)
    assert lines.count('<div markdown="1">') == lines.count("</div>") == len(entries)
    assert lines.count("---") == 2 + len(entries)
    assert not re.search(r"\{[{%]", text.replace('{{ "{" }}', ""))
