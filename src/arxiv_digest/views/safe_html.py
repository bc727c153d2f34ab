"""Markdown to HTML for the site's pages: rendered, then sanitized.

What reaches here is Markdown the sanitizer (sanitize.py) has already cut down to
its allowlist. It is rendered by pulldown-cmark (through `pyromark`), the parser the
sanitizer reasons in, so the HTML has the structure the sanitizer allowed. Then,
whatever the Markdown said, the HTML passes through nh3 (the Rust ammonia sanitizer)
with an allowlist: only the elements an answer needs, links to http(s) and mailto
only, each with `rel="nofollow noopener ugc"`, and no image at all. Formulas become
MathML here, at build time, by `math-core` (no script, no CDN), and are checked on
their own against the MathML allowlist (no `href`, `style`, `class` or `id`); one that
does not convert, or not to allowed MathML, is shown as its TeX.
"""

from __future__ import annotations

import functools
import html
import re

import nh3
import pyromark
from math_core import LatexError, LatexToMathML

from arxiv_digest.views.sanitize import CJK_EMPHASIS_MARKS

_OPTIONS = pyromark.Options.ENABLE_TABLES | pyromark.Options.ENABLE_MATH
_MATH = re.compile(r'<span class="math math-(?:inline|display)">(.*?)</span>', re.DOTALL)
_HELD, _HELD_END = "\ue000", "\ue001"
_CJK_TAGS = {
    CJK_EMPHASIS_MARKS["**", True]: "<strong>", CJK_EMPHASIS_MARKS["**", False]: "</strong>",
    CJK_EMPHASIS_MARKS["*", True]: "<em>", CJK_EMPHASIS_MARKS["*", False]: "</em>",
}  # fmt: skip
_CJK_MARK = re.compile("|".join(_CJK_TAGS))
_HELD_MARK = re.compile(f"{_HELD}(\\d+){_HELD_END}")
# A formula alone on its line: its own paragraph, or a line of one (`\\[ … \\]` between lines
# of text, which the sanitizer writes as `$$ … $$` and kramdown reads within the paragraph).
_LONE_HELD = re.compile(f"(?:(?<=<p>)|(?<=\n)){_HELD}(\\d+){_HELD_END}(?=</p>|\n)")
_PARAGRAPH = re.compile(r"\A<p>(.*)</p>\n?\Z", re.DOTALL)
_PAREN_MARKER = re.compile(r"^([ \t>]*\d{1,9})\)", re.MULTILINE)
_FENCE = re.compile(r"^[ \t]{0,3}(`{3,}|~{3,})", re.MULTILINE)
# Characters XML 1.0 does not allow, which would make a feed malformed.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")

_MATHML_TAGS = {
    "math", "semantics", "annotation", "mrow", "mi", "mn", "mo", "ms", "mtext", "mspace",
    "msub", "msup", "msubsup", "mfrac", "msqrt", "mroot", "mover", "munder", "munderover",
    "mtable", "mtr", "mtd", "mstyle", "mpadded", "mphantom", "menclose", "mfenced",
}  # fmt: skip
_MATHML_ATTRIBUTES = {
    "display", "mathvariant", "stretchy", "fence", "separator", "lspace", "rspace", "accent",
    "accentunder", "movablelimits", "linethickness", "columnalign", "rowspacing",
    "columnspacing", "width", "height", "depth", "scriptlevel", "displaystyle", "encoding",
    "open", "close", "separators", "notation", "symmetric", "largeop", "minsize", "maxsize",
}  # fmt: skip
TAGS = {
    "p", "br", "ul", "ol", "li", "strong", "em", "code", "pre", "a", *_MATHML_TAGS,
}  # fmt: skip
"""What an answer, an abstract or a title may hold on a page: the sanitizer's allowlist
(paragraphs, lists, emphasis, code, links, breaks) and formulas."""
ATTRIBUTES = {
    "a": {"href"},
    "ol": {"start"},
    **{tag: _MATHML_ATTRIBUTES for tag in _MATHML_TAGS},
}
URL_SCHEMES = {"http", "https", "mailto"}
LINK_REL = "nofollow noopener ugc"
# The converter's output as `checked_mathml` allows it: tags of the allowlist with quoted
# attributes of the allowlist, and text; one <math> outside, none within.
_INNER_TAGS = "|".join(sorted(_MATHML_TAGS - {"math"}, key=len, reverse=True))
_MATHML_ATTRIBUTE = "|".join(sorted(_MATHML_ATTRIBUTES, key=len, reverse=True))
_QUOTED_ATTRIBUTES = f'(?:\\s+(?:{_MATHML_ATTRIBUTE})="[^"<>&]*")*'
_ALLOWED_MATHML = re.compile(
    f"<math{_QUOTED_ATTRIBUTES}>"
    f"(?:<(?:{_INNER_TAGS}){_QUOTED_ATTRIBUTES}\\s*/?>|</(?:{_INNER_TAGS})>|[^<]++)*+"
    "</math>"
)


def render_block(markdown: str) -> str:
    """Sanitized HTML of a sanitized Markdown body (translation, abstract, analysis).

    Formulas are held out of the HTML while nh3 cleans it, each replaced by a mark that
    no text can hold (private-use characters, which `sanitize.normalize` removes), and put
    back after, as MathML that `checked_mathml` accepted: nh3 costs most on MathML, and the
    converter's output needs only the narrower check."""
    rendered = pyromark.html(_as_kramdown_reads(markdown), options=_OPTIONS)
    formulas: list[str] = []
    if "math math-" in rendered:

        def hold(found: re.Match[str]) -> str:
            formulas.append(html.unescape(found.group(1)).strip())
            return f"{_HELD}{len(formulas) - 1}{_HELD_END}"

        rendered = _MATH.sub(hold, rendered)
    safe = _cleaner().clean(xml_safe(rendered))
    if _CJK_MARK.search(safe):
        # The emphasis CommonMark misses beside CJK text, as kramdown reads it: each mark is
        # put back as its tag, an opening and its closing in one text node (allowed tags).
        safe = _CJK_MARK.sub(lambda found: _CJK_TAGS[found.group()], safe)
    if not formulas:
        return safe
    # `$$ … $$` alone in its paragraph or on its line is a displayed formula; within text, an
    # inline one.
    safe = _LONE_HELD.sub(lambda found: _formula(formulas[int(found[1])], True), safe)
    return _HELD_MARK.sub(lambda found: _formula(formulas[int(found[1])], False), safe)


def render_inline(markdown: str) -> str:
    """Sanitized HTML of a sanitized one-line field (title, comment), without a paragraph."""
    rendered = render_block(markdown)
    found = _PARAGRAPH.match(rendered)
    return found.group(1) if found else rendered


def xml_safe(text: str) -> str:
    """`text` without the characters XML forbids (feeds must stay well-formed)."""
    return _NOT_XML.sub("", text)


def _as_kramdown_reads(text: str) -> str:
    """`text` with the list markers kramdown does not have (`1)`, `2)` …) escaped, so that
    the page reads a paragraph there, as the Jekyll page does ("1)" on a line of its own
    is how analyses number their parts). Fenced code is left as it is."""
    if ")" not in text:
        return text
    if not _FENCE.search(text):
        return _PAREN_MARKER.sub(r"\1\\)", text)
    pieces = []
    inside = ""
    for line in text.split("\n"):
        fence = _FENCE.match(line)
        if inside:
            if fence and fence.group(1)[0] == inside and not line.strip(inside + " \t"):
                inside = ""  # the closing fence
        elif fence:
            inside = fence.group(1)[0]
        else:
            line = _PAREN_MARKER.sub(r"\1\\)", line)
        pieces.append(line)
    return "\n".join(pieces)


@functools.cache
def _cleaner() -> nh3.Cleaner:
    # Built once: building the allowlist costs more than cleaning a paragraph.
    return nh3.Cleaner(
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel=LINK_REL,
        strip_comments=True,
    )


@functools.cache
def _converter() -> LatexToMathML:
    return LatexToMathML(fancy_error=False)


def _formula(tex: str, displayed: bool) -> str:
    """A formula as MathML; TeX that does not convert, or converts to anything but the
    allowed MathML, is shown as text, as written."""
    try:
        mathml = str(_converter().convert_with_local_state(tex, displaystyle=displayed))
    except LatexError:
        mathml = ""
    checked = checked_mathml(mathml)
    if checked is None:
        return html.escape(f"$${tex}$$", quote=False)
    return checked.replace("<math>", '<math display="block">', 1) if displayed else checked


def checked_mathml(mathml: str) -> str | None:
    """`mathml` if it is one `<math>` element holding only allowed MathML elements and
    attributes and text without markup; else None. An allowlist enforced on the grammar of
    the converter's output (one regular expression, so it costs little): tags with quoted
    attributes, text, and nothing else (no comment, no CDATA, no `<math>` within), so that
    whatever the converter wrote, the page gets only these elements and attributes. Nesting
    is left to the HTML parser, which can only close what is allowed."""
    return mathml if _ALLOWED_MATHML.fullmatch(mathml) else None
