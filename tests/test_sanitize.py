"""The content sanitizer: what untrusted text can no longer do, on chosen and on random input."""

from __future__ import annotations

import re
from datetime import date, time
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arxiv_digest.models import Answer, Paper
from arxiv_digest.record import SCHEMA, DayRecord, RecordWindow, ShownPaper
from arxiv_digest.render import (
    default_templates_dir,
    post_context,
    render_post,
    template_environment,
)
from arxiv_digest.sanitize import block, inline
from arxiv_digest.window import window_for

LIQUID_BRACE = '{{ "{" }}'


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Plain title with a < b & c", "Plain title with a < b & c"),
        ("<script>alert(1)</script>", "&lt;script>alert(1)&lt;/script>"),
        ("{{ site.github }}", '{{ "{" }}{{ "{" }} site.github }}'),
        ("{% include x.html %}", '{{ "{" }}% include x.html %}'),
        ("Set {a, b} stays", "Set {a, b} stays"),
        ("x {: onclick='y'}", "x {&#58; onclick='y'}"),
    ],
)
def test_inline_fields(text: str, expected: str) -> None:
    assert inline(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("段落一\n\n段落二", "段落一\n\n段落二"),
        ("包含`<seg>`标签与 `{x}`", "包含`<seg>`标签与 `{x}`"),
        ("x\n## 新论文\n---\ny\n===", "x\n\\## 新论文\n\\---\ny\n\\==="),
        ("</div>\n</details>", "&lt;/div>\n&lt;/details>"),
        ('<img src=x onerror="alert(1)">', '&lt;img src=x onerror="alert(1)">'),
        ("```python\nprint('<b>')\n```\n<b>", "```python\nprint('<b>')\n```\n&lt;b>"),
        ("```\nnever closed <b>", "```\nnever closed <b>\n```"),
        (
            "[a](javascript:alert(1)) [b](https://arxiv.org)",
            "[a]&#40;javascript:alert(1)) [b](https://arxiv.org)",
        ),
        ("[a](&#106;avascript:x)", "[a]&#40;&#106;avascript:x)"),
        ("[a]( java\tscript:x)", "[a]&#40; java\tscript:x)"),
        ("[1]: javascript:alert(1)", "[1]&#58; javascript:alert(1)"),
        ("{::nomarkdown}<script>", "{&#58;:nomarkdown}&lt;script>"),
    ],
)
def test_block_bodies(text: str, expected: str) -> None:
    assert block(text) == expected


# Text made of the characters that matter to Markdown, HTML and Liquid, and some that do not.
hostile_text = st.text(
    alphabet=st.sampled_from(list("<>/{}%#-=*_`~[]():!\"'$\\ \n\tabsciptjvaonerr论文1")),
    max_size=120,
)


def _outside_fences(text: str) -> list[str]:
    lines, fence = [], None
    for line in text.split("\n"):
        marker = re.match(r"^ {0,3}(`{3,}|~{3,})", line)
        if (
            fence is None
            and marker
            and not (marker.group(1)[0] == "`" and "`" in line[marker.end() :])
        ):
            fence = marker.group(1)
        elif (
            fence is not None
            and marker
            and marker.group(1)[0] == fence[0]
            and not line[marker.end() :].strip()
        ):
            fence = None if len(marker.group(1)) >= len(fence) else fence
        elif fence is None:
            lines.append(line)
    return lines


@settings(max_examples=400, deadline=None)
@given(hostile_text)
def test_block_output_cannot_change_structure_or_start_liquid(text: str) -> None:
    safe = block(text)

    without_our_braces = safe.replace(LIQUID_BRACE, "")
    assert "{{" not in without_our_braces and "{%" not in without_our_braces
    for line in _outside_fences(safe):
        assert not re.match(r"^ {0,3}#{1,6}([ \t]|$)", line), line
        assert not re.match(r"^ {0,3}(=+|-+)[ \t]*$", line), line
        assert not re.match(r"^ {0,3}([-*_])([ \t]*\1){2,}[ \t]*$", line), line
        assert not re.search(r"\{:", line), line
    # Every fence it opens, it closes: what follows is outside code again.
    assert _outside_fences(safe + "\nafter")[-1] == "after"


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(hostile_text, hostile_text, hostile_text, hostile_text), min_size=1, max_size=4
    )
)
def test_posts_keep_one_block_per_paper_whatever_the_text(
    texts: list[tuple[str, str, str, str]],
) -> None:
    window = window_for(date(2026, 2, 13), time(8, 50), ZoneInfo("Asia/Shanghai"))
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
        template_environment(default_templates_dir()), post_context(record, ["cs.SD"])
    )

    lines = text.split("\n")
    assert sum(line.startswith("## ") for line in lines) == len(entries)
    assert lines.count("<details>") == lines.count("</details>") == len(entries)
    assert lines.count('<div markdown="1">') == lines.count("</div>") == len(entries)
    assert lines.count("---") == 2 + len(entries)
