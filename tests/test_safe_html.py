"""The site's HTML of an answer: rendered, sanitized by nh3, formulas as checked MathML."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arxiv_digest.views import safe_html, sanitize
from arxiv_digest.views.safe_html import checked_mathml, render_block
from arxiv_digest.views.sanitize import block


@pytest.mark.parametrize(
    "mathml",
    [
        '<math><mi onclick="x">a</mi></math>',  # an attribute off the allowlist
        '<math><a href="javascript:x">a</a></math>',  # an element off it
        "<math><mi>a</mi></math><script>x</script>",  # anything after the one element
        "<math><mi>a</mi></math><math></math>",
        "<math><math><mi>a</mi></math></math>",  # a formula within
        "<mi>a</mi>",  # not a formula
        "<math><mi>a<!-- x --></mi></math>",  # markup no token reads
        "<math><mi style=color:red>a</mi></math>",  # an attribute without quotes
        "",
    ],
)
def test_mathml_off_the_allowlist_is_refused(mathml: str) -> None:
    assert checked_mathml(mathml) is None


def test_allowed_mathml_passes_even_unbalanced() -> None:
    # Balance is the HTML parser's to mend: whatever it makes of these, every element and
    # attribute it can meet is on the allowlist, and the formula ends at its </math>.
    for mathml in ('<math display="block"><mspace/><mi>a &lt; b</mi></math>',
                   "<math><mi>a</mo></math>", "<math><mi>a</math>"):  # fmt: skip
        assert checked_mathml(mathml) == mathml


def test_the_converters_mathml_passes() -> None:
    for tex in (r"l_k = \sum_{i \in P} a_i t_{k,i}", r"\sin x", r"\Vert\theta\Vert_2^2",
                r"\frac{\Vert s \Vert^2}{\Vert s - \hat{s} \Vert^2}", r"\mathcal{L}"):  # fmt: skip
        html = render_block(f"见 $${tex}$$ 。")
        assert html.startswith("<p>见 <math>") and "$$" not in html, tex


def test_a_formula_alone_is_displayed_and_bad_tex_is_shown_as_text() -> None:
    html = render_block("$$ \\frac{1}{2} $$\n\n文中 $$\\foo{x}$$ 与 <https://example.org/a_b>。")
    assert html.startswith('<p><math display="block"><mfrac>')
    assert "文中 $$\\foo{x}$$ 与" in html
    assert '<a href="https://example.org/a_b" rel="nofollow noopener ugc">' in html


def test_a_formula_on_a_line_of_its_own_is_displayed() -> None:
    # `\[ … \]` between two lines of a paragraph, as analyses write a displayed formula.
    html = render_block(sanitize.block("损失为\n\\[ L = \\frac{a}{b} \\]\n其中 \\( a \\) 是常数。"))
    assert '损失为\n<math display="block"><mi>L</mi>' in html
    assert "其中 <math><mi>a</mi></math> 是常数" in html  # within text: inline


def test_a_converter_that_writes_more_than_mathml_is_not_believed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Rogue:
        def convert_with_local_state(self, tex: str, displaystyle: bool) -> str:
            return f'<math><mi onmouseover="alert(1)">{tex}</mi></math>'

    monkeypatch.setattr(safe_html, "_converter", lambda: Rogue())
    html = render_block("公式 $$x$$。")
    assert html == "<p>公式 $$x$$。</p>\n"


def test_nothing_held_out_leaks() -> None:
    """The marks that hold formulas out are characters no sanitized text has."""
    from arxiv_digest.views.sanitize import block

    text = block("私用区字符 \ue000 0 \ue001 已被删除 $$y$$")
    html = render_block(text)
    assert "\ue000" not in html and "\ue001" not in html and html.count("<math>") == 1


@pytest.mark.parametrize(
    ("text", "html"),
    [
        ("准确率达到**99.40%**的水平", "<p>准确率达到<strong>99.40%</strong>的水平</p>"),
        ("这是**“引号”**内容", "<p>这是<strong>“引号”</strong>内容</p>"),
        ("- **研究背景**：准确率**99.40%**的", "<ul>\n<li><strong>研究背景</strong>：准确率<strong>99.40%</strong>的</li>\n</ul>"),
    ],
)  # fmt: skip
def test_emphasis_beside_chinese_is_drawn_as_the_model_meant(text: str, html: str) -> None:
    """CommonMark leaves `**99.40%**的` as asterisks (a closing run after punctuation before a
    letter); the CJK-friendly amendment, and kramdown, read it as bold."""
    assert safe_html.render_block(block(text, emphasis_marks=True)).strip() == html


CJK_HOSTILE = st.text(
    alphabet=st.sampled_from(list("的中文。，“”（）%9 *a_`\n-：!、\\<>[]")), max_size=40
)


@settings(max_examples=300, deadline=None)
@given(CJK_HOSTILE)
def test_emphasis_marks_never_reach_a_page(text: str) -> None:
    html = safe_html.render_block(block(text, emphasis_marks=True))
    assert not any("\ue000" <= char <= "\uf8ff" for char in html)
    assert html.count("<strong>") == html.count("</strong>")
    assert html.count("<em>") == html.count("</em>")
