"""Markdown to HTML for the pages this tool writes: rendered, then sanitized.

The Markdown is rendered by pulldown-cmark (through `pyromark`), the parser the
sanitizer reasons in (see sanitize.py), so the HTML has the structure the
sanitizer allowed. Formulas become MathML here, at build time (no script, no CDN);
one that does not convert is shown as its TeX. Then, whatever the Markdown said,
the HTML passes through nh3 (the Rust ammonia sanitizer) with an allowlist: only
the elements the pages need, MathML without `href`, `style`, `class` or `id`,
links to http(s) and mailto only, each with `rel="nofollow noopener ugc"`, and no
image at all. Ids for the table of contents are added after sanitizing, by us.
"""

from __future__ import annotations

import html
import re
from typing import Any, TypedDict, cast

import nh3
import pyromark
from latex2mathml.converter import convert as latex_to_mathml

_OPTIONS = pyromark.Options.ENABLE_TABLES | pyromark.Options.ENABLE_MATH
_MATH = re.compile(r'<span class="math math-(?:inline|display)">(.*?)</span>', re.DOTALL)
_LONE_MATH = re.compile(r"<p>(<math\b[^>]*>.*?</math>)</p>", re.DOTALL)
_HEADING = re.compile(r"<h2>(.*?)</h2>", re.DOTALL)
_TAG = re.compile(r"<[^>]*>")
_PAREN_MARKER = re.compile(rb"[ \t]*\d{1,9}\)")
_MAX_PASSES = 8
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
    "p", "br", "ul", "ol", "li", "strong", "em", "code", "pre", "a", "h2", "h3",
    "hr", "details", "summary", "div", "span", *_MATHML_TAGS,
}  # fmt: skip
ATTRIBUTES = {
    "a": {"href"},
    "ol": {"start"},
    **{tag: _MATHML_ATTRIBUTES for tag in _MATHML_TAGS},
}
URL_SCHEMES = {"http", "https", "mailto"}
LINK_REL = "nofollow noopener ugc"


class Heading(TypedDict):
    id: str
    name: str


def markdown_to_html(text: str) -> tuple[str, list[Heading]]:
    """Sanitized HTML of `text`, and its table of contents (its `##` headings)."""
    rendered = pyromark.html(_as_kramdown_reads(text), options=_OPTIONS)
    rendered = _MATH.sub(lambda found: _mathml(html.unescape(found.group(1))), rendered)
    # `$$ … $$` alone in its paragraph is a displayed formula; within text, an inline one.
    rendered = _LONE_MATH.sub(_displayed, rendered)
    safe = sanitize_html(rendered)
    toc: list[Heading] = []

    def number(found: re.Match[str]) -> str:
        heading = Heading(id=f"paper-{len(toc) + 1}", name=html.unescape(_TAG.sub("", found[1])))
        toc.append(heading)
        return f'<h2 id="{heading["id"]}">{found[1]}</h2>'

    return _HEADING.sub(number, safe), toc


def _as_kramdown_reads(text: str) -> str:
    """`text` with the list markers kramdown does not have (`1)`, `2)` …) escaped, so that
    this renderer reads a paragraph there, as the Jekyll page does ("1)" on a line of its
    own is how analyses number their parts)."""
    for _ in range(_MAX_PASSES):
        source = text.encode("utf-8")
        ordered: list[bool] = []
        markers: list[int] = []
        for raw, span in pyromark.events_with_range(text, options=_OPTIONS):
            if isinstance(raw, str):
                continue
            event = cast(dict[str, Any], raw)
            opened, closed = event.get("Start"), event.get("End")
            if isinstance(opened, dict) and "List" in opened:
                ordered.append(opened["List"] is not None)
            elif opened == "Item" and ordered and ordered[-1]:
                marker = _PAREN_MARKER.match(source, span["start"])
                if marker is not None:
                    markers.append(marker.end() - 1)
            elif isinstance(closed, dict) and "List" in closed:
                ordered.pop()
        if not markers:
            return text
        for position in reversed(markers):
            source = source[:position] + b"\\" + source[position:]
        text = source.decode("utf-8")
    return text


def sanitize_html(fragment: str) -> str:
    """`fragment` with only the allowed elements, attributes and URL schemes left."""
    return nh3.clean(
        xml_safe(fragment),
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel=LINK_REL,
        strip_comments=True,
    )


def xml_safe(text: str) -> str:
    """`text` without the characters XML forbids (feeds must stay well-formed)."""
    return _NOT_XML.sub("", text)


def _displayed(found: re.Match[str]) -> str:
    return "<p>" + found[1].replace('display="inline"', 'display="block"', 1) + "</p>"


def _mathml(tex: str) -> str:
    """A formula as inline MathML; TeX that does not convert is shown as code."""
    try:
        return str(latex_to_mathml(tex.strip()))
    except Exception:  # latex2mathml raises many kinds on malformed TeX
        return f'<code class="tex">{html.escape(tex)}</code>'
