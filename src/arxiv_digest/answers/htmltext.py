"""A paper's text from its HTML version on arXiv (made by LaTeXML from its TeX source).

The HTML keeps what the PDF's text loses: sections with their headings, formulas as their
TeX (each `<math>` carries it as `alttext`), captions beside the figures and tables they
describe (a table's rows too), and no running heads, hyphenation or ligatures. What is read here becomes
Markdown-like text, one `## heading` per section, each section marked with its kind so that
a token budget can cut by priority (`budget.py`): references, acknowledgements and
appendices first, related work before methods and results.

A page that is not a LaTeXML document (arXiv's answer when a conversion failed) gives
None, and the PDF is read instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # lxml is imported when a page is read: a run on cached texts needs none
    from lxml.etree import _Element

EXTRACTOR = "latexml-html-1"
"""Names the reading of the HTML; part of the cache key of a paper's text."""

# Section kinds, in the order a budget cuts them: first what the analysis needs least.
REFERENCES = "references"
ACKNOWLEDGEMENTS = "acknowledgements"
APPENDIX = "appendix"
RELATED = "related work"
BODY = "body"
FRONT = "front"
"""Title and abstract: never cut."""

_RELATED_HEADING = re.compile(
    r"(?i)\b(related work|prior work|previous work|background|literature|preliminar)"
)
_ACKNOWLEDGEMENT_HEADING = re.compile(r"(?i)^\W*acknowledge?ments?\b")
_BLANKS = re.compile(r"\s+")
_BLANK_LINES = re.compile(r"\n{3,}")
# LaTeXML wraps long alttext with a TeX comment at the break ("…^{(n)%\n}").
_ALTTEXT_BREAK = re.compile(r"%\n")


@dataclass(frozen=True)
class Section:
    heading: str
    kind: str
    text: str
    """The section's text, its heading first (`## 3 Method`)."""


def document(html: bytes) -> _Element | None:
    """The LaTeXML paper in `html` (its `article.ltx_document`), parsed; None if it has none
    (arXiv's page for a failed conversion, or not HTML at all)."""
    import lxml.html
    from lxml.etree import ParserError

    try:
        root = lxml.html.document_fromstring(html)
    except (ParserError, ValueError):
        return None
    found = root.xpath("//article[contains(concat(' ', @class, ' '), ' ltx_document ')]")
    return found[0] if found else None


def paper_sections(page: bytes | _Element | None) -> list[Section] | None:
    """The sections of a LaTeXML paper (its HTML, or its `document`), in order; None if it
    is not one."""
    document = _parsed(page)
    if document is None:
        return None
    front = []
    for title in document.xpath(".//*[contains(@class, 'ltx_title_document')]"):
        front.append(f"# {_text(title)}")
    for abstract in document.xpath(".//*[contains(@class, 'ltx_abstract')]"):
        paragraphs = [_text(p) for p in abstract.xpath(".//p")]
        front.append("## Abstract\n\n" + "\n\n".join(p for p in paragraphs if p))
    sections = [Section("", FRONT, "\n\n".join(front))] if front else []
    for element in document.xpath(
        "./section | ./div[contains(@class, 'ltx_acknowledgements')]"
        " | ./div[contains(@class, 'ltx_para')]"
    ):
        sections.append(_section(element))
    return [section for section in sections if section.text.strip()]


@dataclass(frozen=True)
class FigureRef:
    src: str
    """The image's address as the page gives it (relative to the page, usually)."""
    caption: str


def first_figure(page: bytes | _Element | None) -> FigureRef | None:
    """The paper's first figure that has an image (not a table, not an inline logo), with
    its caption; None when it has none or `page` is not a LaTeXML paper."""
    document = _parsed(page)
    if document is None:
        return None
    for figure in document.xpath(".//figure[contains(concat(' ', @class, ' '), ' ltx_figure ')]"):
        images = [src for src in figure.xpath(".//img/@src") if not src.startswith("data:")]
        if images:
            captions = figure.xpath(".//figcaption")
            return FigureRef(str(images[0]), _text(captions[0]) if captions else "")
    return None


def _parsed(page: bytes | _Element | None) -> _Element | None:
    """`page` parsed once: the document as it came, or read from its HTML."""
    return document(page) if isinstance(page, bytes) else page


def as_text(sections: list[Section]) -> str:
    """The sections as one text, in order, a blank line between them."""
    return "\n\n".join(section.text for section in sections)


def model_input(text: str, max_chars: int) -> str:
    """What an analysis gets of a stored HTML text: its references left out (as a PDF's are),
    at most `max_chars`."""
    kept = [section for section in section_kinds(text) if section.kind != REFERENCES]
    return as_text(kept)[:max_chars]


def section_kinds(text: str) -> list[Section]:
    """A stored text back in its sections (each starts at a `## ` heading), with their
    kinds: what a budget cuts from. Text before the first heading is the front."""
    starts = [found.start() for found in re.finditer(r"^## ", text, re.MULTILINE)]
    if not starts:
        return [Section("", BODY, text)]
    pieces = [text[: starts[0]]] if starts[0] else []
    pieces += [text[start:end] for start, end in zip(starts, [*starts[1:], len(text)], strict=True)]
    sections: list[Section] = []
    for piece in pieces:
        heading = (
            piece.split("\n", 1)[0].removeprefix("## ").strip() if piece.startswith("## ") else ""
        )
        kind = _kind_of_heading(heading) if heading and heading != "Abstract" else FRONT
        if kind == FRONT and sections and sections[-1].kind == FRONT:  # the title, then abstract
            sections[-1] = Section("", FRONT, sections[-1].text + "\n\n" + piece.strip("\n"))
        else:
            sections.append(Section("" if kind == FRONT else heading, kind, piece.strip("\n")))
    return sections


def _section(element: _Element) -> Section:
    classes = f" {element.get('class', '')} "
    headings = element.xpath("./*[contains(@class, 'ltx_title')]")
    heading = _text(headings[0]) if headings else ""
    if " ltx_bibliography " in classes:
        kind = REFERENCES
    elif " ltx_appendix " in classes:
        kind = APPENDIX
    elif " ltx_acknowledgements " in classes:
        kind, heading = ACKNOWLEDGEMENTS, heading or "Acknowledgements"
    else:
        kind = _kind_of_heading(heading)
    body = _blocks(element, depth=2)
    return Section(heading, kind, _BLANK_LINES.sub("\n\n", body).strip())


def _kind_of_heading(heading: str) -> str:
    words = re.sub(r"^(?:Appendix\s+)?[\dA-Z.]+\s+", "", heading)
    if _ACKNOWLEDGEMENT_HEADING.search(words):
        return ACKNOWLEDGEMENTS
    if heading.startswith("Appendix"):
        return APPENDIX
    if re.match(r"(?i)references|bibliography", words):
        return REFERENCES
    if _RELATED_HEADING.search(words):
        return RELATED
    return BODY


def _blocks(element: _Element, depth: int) -> str:
    """The text of a section (or subsection) as Markdown-like blocks."""
    out = []
    for child in element:
        if not isinstance(child.tag, str):
            continue
        classes = f" {child.get('class', '')} "
        if " ltx_title " in classes and child.tag in ("h2", "h3", "h4", "h5", "h6"):
            out.append(f"{'#' * min(depth, 4)} {_text(child)}")
        elif child.tag == "section":
            out.append(_blocks(child, depth + 1))
        elif child.tag == "figure":
            # Where it stands: "Figure 1: …", or a table's caption and its rows (an
            # analysis quotes their figures); a figure's image says nothing in text.
            captions = child.xpath(".//figcaption")
            block = [_text(captions[0])] if captions else []
            for row in child.xpath(".//table[contains(@class, 'ltx_tabular')]//tr"):
                cells = [_text(cell) for cell in row.xpath("./td | ./th")]
                if any(cells):
                    block.append(" | ".join(cells))
            out.append("\n".join(block))
        elif " ltx_equation " in classes or " ltx_equationgroup " in classes:
            formulas = [_alttext(math) for math in child.xpath(".//math")]
            out.append("\n".join(f"$$ {tex} $$" for tex in formulas if tex))
        elif " ltx_bibitem " in classes or child.tag in ("ul", "ol"):
            out.append("\n".join(f"- {_text(item)}" for item in child.xpath("./li")))
        elif child.tag == "p" or " ltx_para " in classes or child.tag == "div":
            inner = _blocks(child, depth) if child.tag == "div" else _text(child)
            out.append(inner)
    return "\n\n".join(block for block in out if block.strip())


def _text(element: _Element) -> str:
    """An element's text with each formula as its TeX (`$…$`) and footnotes left out."""
    pieces: list[str] = []
    _collect(element, pieces)
    return _BLANKS.sub(" ", "".join(pieces)).strip()


def _collect(element: _Element, pieces: list[str]) -> None:
    """`element`'s text into `pieces` (its tail is its parent's business)."""
    if element.tag == "math":
        tex = _alttext(element)
        pieces.append(f"${tex}$" if tex else "")
        return
    if " ltx_note " in f" {element.get('class', '')} ":
        return  # a footnote: its mark and its text would break the sentence
    if element.text:
        pieces.append(element.text)
    for child in element:
        if isinstance(child.tag, str):
            _collect(child, pieces)
        if child.tail:
            pieces.append(child.tail)


def _alttext(math: _Element) -> str:
    return " ".join(_ALTTEXT_BREAK.sub("", math.get("alttext", "")).split())
