"""Untrusted text made safe to publish: one grammar, an allowlist, enforced on a parse.

Titles, authors, abstracts and model answers are written by strangers. What they may
contain is decided here, on the parse of a CommonMark parser (pulldown-cmark, through
`pyromark`, which reports the source range of every construct), never by patterns
over lines:

- allowed: paragraphs, lists (nested at most `_MAX_LIST_DEPTH` deep), emphasis and
  strong emphasis, code spans and fenced code blocks, links to http(s) or mailto URLs
  whose visible text, when it is a URL, is that URL, and formulas (`$$ … $$`, and
  `$ … $`, which is written as `$$ … $$` because kramdown reads only that); in a
  one-line field (a title, an author), which arXiv gives as plain text, only text and
  formulas;
- everything else (headings, rules, quotes, tables, raw HTML, images, reference
  definitions and links, strikethrough, indented code) keeps its text but loses its
  syntax: each of its punctuation characters is escaped, so both renderers show it
  literally. Nothing is dropped.

The output must read the same to kramdown (GFM input), which renders the Jekyll
posts, as to the CommonMark renderer of the site. Where kramdown gives meaning to
text that CommonMark leaves literal (`|` tables, `{:` attribute lists, `{#` ids,
`]:` and `*[` definitions, `[^` footnotes, `$` math, `~~`, a line-start `:`, raw
HTML, and runs of brackets, backticks and asterisks that cost it quadratic time),
the text is escaped too; allowed links, code spans and fences are written out again
in one form both read alike (a fence always closed, a code span without inner
backticks, a link target percent-encoded on one line). Then the result is parsed
again: until it holds only allowed constructs it is escaped again, and if that does
not settle, the whole text is escaped.

Escapes are backslashes, which both grammars honour for ASCII punctuation, except
brackets, written as the entities `&#91;` `&#93;` (a `\\[ … \\]` would read as a
LaTeX formula to MathJax), and parentheses, which need none once no bracket can
open a link. Before parsing, line endings are normalised, control, bidi and other
invisible format characters are removed, lines nested deeper than the allowlist
are flattened, and formulas written `\\( … \\)` or `\\[ … \\]` become `$$ … $$`.
Every step is linear in the length of the text.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from typing import Any, cast
from urllib.parse import quote, urlsplit

import pyromark

from arxiv_digest.views.postformat import METADATA_LABELS

_OPTIONS = (
    pyromark.Options.ENABLE_TABLES
    | pyromark.Options.ENABLE_STRIKETHROUGH
    | pyromark.Options.ENABLE_MATH
)
_MAX_PASSES = 4
_MAX_LIST_DEPTH = 4
_LINK_SCHEMES = ("http", "https", "mailto")

_ESCAPABLE = "\\`*_{}[]()#+-.!|:<>$~=\"'"
"""ASCII punctuation that both CommonMark and kramdown unescape after a backslash."""
_ESCAPES = {
    **{char: "\\" + char for char in _ESCAPABLE},
    "[": "&#91;",
    "]": "&#93;",
    "(": "(",
    ")": ")",
}
_ESCAPE_ALL = str.maketrans(_ESCAPES)
_BRACKET_ENTITY = re.compile(r"(&#9[13];)")
# Text CommonMark reads literally in which kramdown would read syntax (or spend quadratic
# time): always escaped, and escaped where the context says so.
_TEXT_ALWAYS = str.maketrans({char: _ESCAPES[char] for char in "|[]`*$"})
# Zero-width: the place before each character to escape, so that the replacement is a
# constant backslash, which `re.sub` inserts without calling back into Python.
_TEXT_IN_CONTEXT = re.compile(
    r"(?=<[A-Za-z/!?])|(?=\{[:#])|(?=~~)|(?<=~)(?=~)|(?<![A-Za-z0-9])(?=_)|(?=_(?![A-Za-z0-9]))"
)
_TEXT_SPECIAL = re.compile(r"[|\[\]`*$<{~_]")
# A line of `=` and `-` mixed: kramdown's heading underline, CommonMark's text.
_MIXED_UNDERLINE = re.compile(r"[ \t]*[=-]*(?:=-|-=)[=-]*[ \t]*")
# What the fast path (`is_plain`) looks for: a character that could start an inline
# construct (or escape, or an entity), and a line that could start a block (a marker, a
# fence, an indentation, kramdown's `:` definition).
_INLINE_SYNTAX = re.compile(r"[|\[\]`*$<{~_\\&]")
# (A tab within the first four columns indents as far as four spaces: code, to CommonMark.)
_BLOCK_START = re.compile(r"^(?:[ \t]*(?:[#>*+=:|~`<\[-]|\d{1,9}[.)])| {4}| {0,3}\t)", re.MULTILINE)
# A bare web address in text; what ends a sentence after it is not part of it. Brackets,
# parentheses, `$`, `|` and `<>` end it too: no character in it may mean more to either
# grammar, so that the autolink `<…>` made of it reads the same to both.
# ASCII lookbehind: a URL glued to Chinese text (`代码见https://…`) is one, and `\w` matches
# Chinese characters.
_BARE_URL = re.compile(r"(?<![A-Za-z0-9_<])https?://[A-Za-z0-9\-._~:/?#@!&'*+,;=%]+")
_URL_TRAILING = ".,;:!?'*"
_ESCAPE_PAIR = re.compile(r"(\\[!-/:-@\[-`{-~])")

# Control (but tab and newline), format (but the zero-width joiners that some scripts
# need), surrogate and private-use characters, and the invisible separators and
# noncharacters; line and paragraph separators become spaces. Checked against
# unicodedata by the tests.
_INVISIBLE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2"
    "\u180e\u200b\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb"
    "\ufffe\uffff\ud800-\udfff\ue000-\uf8ff\U000110bd\U000110cd\U00013430-\U0001343f"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f"
    "\U000f0000-\U000ffffd\U00100000-\U0010fffd]"
)
_LINE_SEPARATORS = str.maketrans({"\u2028": " ", "\u2029": " "})
# A line that opens more containers (quotes, list items) than the allowlist nests: its
# markers are escaped before parsing, so that no text can make a parser nest deeply.
_DEEP_PREFIX = re.compile(
    r"^(?:[ \t]*(?:>|[*+-](?=[ \t])|\d{1,9}[.)](?=[ \t]))[ \t]*)" + f"{{{_MAX_LIST_DEPTH + 2},}}",
    re.MULTILINE,
)
# An escaped backslash (skipped whole, so it opens nothing), a formula delimiter, a newline.
_LATEX_DELIMITER = re.compile(r"\\\\|\\[()\[\]]|\n")
# In TeX: a `\\` (kept), a `\|` (the double bar, `\Vert`), a `|` (`\vert`).
_PIPE_IN_TEX = re.compile(r"(\\\\|\\?\|)(?=([A-Za-z])?)")
_LANGUAGE = re.compile(r"[A-Za-z0-9_+#.-]{1,30}")

_ALLOWED_CONTAINERS = {"Paragraph", "List", "Item", "Emphasis", "Strong", "Link", "CodeBlock"}
# A one-line field is text: only the paragraph it is parsed in.
_ALLOWED_INLINE_CONTAINERS = {"Paragraph"}
# Allowed containers with nothing more to check (not lists, links or code blocks).
_PLAIN_CONTAINERS = {"Paragraph", "Item", "Emphasis", "Strong"}


def normalize(text: str) -> str:
    """Line endings as `\\n`, no control, bidi or other invisible format characters."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    # Every character removed or replaced here is one Python calls unprintable (checked by
    # the tests), so printable text, as most is, needs no regex.
    if text.replace("\n", "").replace("\t", "").isprintable():
        return text
    return _INVISIBLE.sub("", text).translate(_LINE_SEPARATORS)


def block(text: str, *, emphasis_marks: bool = False) -> str:
    """A Markdown body (abstract, translation, analysis) that holds only allowed constructs.

    With `emphasis_marks`, the delimiters of emphasis that only the CJK-friendly amendment
    pairs are written as `CJK_EMPHASIS_MARKS`, for a renderer that lacks the amendment (the
    site's); without, as the asterisks kramdown reads (the post's)."""
    source = _latex_formulas(_flatten_deep_lines(normalize(text)))
    if is_plain(source, inline_only=False):
        return source
    safe, marks = _settled(source, inline_only=False)
    if not emphasis_marks or not marks:
        return safe
    written = bytearray(safe.encode("utf-8"))
    for position, length, mark in sorted(marks, reverse=True):
        written[position : position + length] = mark.encode("utf-8")
    return written.decode("utf-8")


def inline(text: str) -> str:
    """A one-line field (title, author, category, comment; a triage's title and summary):
    plain text, shown as written (`__init__`, `*Speech*`), and formulas. arXiv gives these
    fields as text, so no emphasis, code or link is read into them."""
    # No code span in a one-line field: a formula in backticks is a formula there too.
    source = _latex_formulas(" ".join(normalize(text).split()), code_is_literal=True)
    if is_plain(source, inline_only=True):
        return source
    return _settled(source, inline_only=True)[0]


def is_plain(source: str, *, inline_only: bool) -> bool:
    """Whether `source` can only be paragraphs of text to both grammars, so that the parse
    would find nothing to escape or rewrite (most titles and translations): no character
    that starts an inline construct, and no line that could start a block."""
    if _INLINE_SYNTAX.search(source) or (not inline_only and "://" in source):
        return False
    return inline_only or not _BLOCK_START.search(source)


_Marks = list[tuple[int, int, str]]
"""CJK-friendly emphasis delimiters: (byte position, length, mark) in a pass's text."""


def _settled(source: str, *, inline_only: bool) -> tuple[str, _Marks]:
    """The text once a pass changes nothing, with the emphasis marks that pass found (its
    positions are the text's own, as it changed nothing)."""
    for _ in range(_MAX_PASSES):
        safe, marks = _neutralize(source, inline_only=inline_only)
        if safe == source:
            return safe, marks
        source = safe
    return _escaped_all(source), []


def _neutralize(text: str, *, inline_only: bool) -> tuple[str, _Marks]:
    """One pass: every construct outside the allowlist escaped, text escaped where kramdown
    reads more into it, and links, code spans, fences and formulas made canonical.

    It reads pyromark's events as they come (a string for a break or a rule, a one-key
    dict otherwise): a hostile text can make a million of them, so each costs little.
    """
    # An inline field is parsed as the middle of a paragraph, where no block can start.
    prefix = "x " if inline_only else ""
    source = prefix + text
    # A one-line field is text: no emphasis, the CJK-friendly either.
    edits = _Edits(source.encode("utf-8"), emphasis=not inline_only)
    containers = _ALLOWED_INLINE_CONTAINERS if inline_only else _ALLOWED_CONTAINERS
    list_depth = 0
    skipping = 0  # > 0 inside a construct already escaped whole
    in_code_block = False
    lookalike = _MetadataLookalike()
    events = pyromark.events_with_range(source, options=_OPTIONS, merge_text=True)
    # The hot loop of the site's build: names are looked up once, the common events first.
    escape_text, escape = edits.escape_text, edits.escape
    # Bare URLs become links in a body, but not within a link (nor in a one-line field,
    # which holds no link at all).
    link_depth = 1 if inline_only else 0
    for raw, span in events:
        if type(raw) is str:  # SoftBreak, HardBreak, Rule
            lookalike.state = 0
            if raw != "SoftBreak" and raw != "HardBreak" and not skipping and not in_code_block:
                escape(span["start"], span["end"])
            continue
        event: dict[str, Any] = raw  # type: ignore[assignment]
        value = event.get("Text")
        if value is not None:
            if not skipping and not in_code_block:
                escape_text(span["start"], span["end"], value, linkify=not link_depth)
                if lookalike.state and (label := lookalike.text(value)):
                    escape(*label)
            continue
        opened = event.get("Start")
        if opened is not None:
            if skipping:
                skipping += 1
                continue
            name, detail = (opened, None) if type(opened) is str else next(iter(opened.items()))
            start, end = span["start"], span["end"]
            lookalike.start(name, start, end)
            if name in _PLAIN_CONTAINERS and name in containers:
                continue
            list_depth += name == "List"
            if not _allowed(name, detail, containers, list_depth, edits.source, start, end):
                list_depth -= name == "List"
                if name == "CodeBlock":
                    edits.flatten_code(start, end)
                else:
                    escape(start, end)
                skipping = 1
            elif name == "Link":
                edits.canonical_link(detail or {}, start, end)
                link_depth += 1
            elif name == "CodeBlock":
                edits.canonical_fence(start, end)
                in_code_block = True
            continue
        closed = event.get("End")
        if closed is not None:
            if skipping:
                skipping -= 1
                continue
            name = closed if type(closed) is str else next(iter(closed))
            lookalike.end(name)
            list_depth -= name == "List"
            link_depth -= name == "Link"
            in_code_block = in_code_block and name != "CodeBlock"
            continue
        lookalike.state = 0
        if skipping or in_code_block:
            continue
        ((kind, value),) = event.items()
        if kind == "Code" and not inline_only:
            edits.canonical_code(str(value), span["start"], span["end"])
        elif kind in ("DisplayMath", "InlineMath"):
            edits.canonical_math(kind, str(value), span["start"], span["end"])
        else:  # raw HTML, footnote references, task markers: not on the allowlist
            edits.escape(span["start"], span["end"])
    # Reference definitions are taken away by the parser (no event shows them): escaped whole.
    for definition in pyromark.reference_definitions(source).values():
        edits.escape(definition["span"]["start"], definition["span"]["end"])
    return edits.apply()[len(prefix) :].decode("utf-8"), edits.marks


class _MetadataLookalike:
    """Watches the events for a list item that opens with a strong metadata label and a
    colon (`- **arXiv**: …`): the look of a line only the post template may write."""

    __slots__ = ("label", "state")

    def __init__(self) -> None:
        self.state = 0  # 0 idle, 1 in a fresh item, 2 in its strong, 3 a label, 4 strong closed
        self.label = (0, 0)

    def start(self, name: str, start: int, end: int) -> None:
        if name == "Item":
            self.state = 1
        elif name == "Strong" and self.state == 1:
            self.state, self.label = 2, (start, end)
        elif not (name == "Paragraph" and self.state == 1):
            self.state = 0

    def end(self, name: str) -> None:
        self.state = 4 if name == "Strong" and self.state == 3 else 0

    def text(self, value: str) -> tuple[int, int] | None:
        """The label's range, when this text completes the look of a metadata line."""
        if self.state == 2 and value.strip() in METADATA_LABELS:
            self.state = 3
            return None
        found = self.state == 4 and value.lstrip().startswith((":", "："))
        self.state = 0
        return self.label if found else None


def _allowed(
    name: str,
    detail: Any,
    containers: set[str],
    list_depth: int,
    source: bytes,
    start: int,
    end: int,
) -> bool:
    if name not in containers:
        return False
    if name == "List":
        return list_depth <= _MAX_LIST_DEPTH
    if name == "CodeBlock":
        return isinstance(detail, dict) and "Fenced" in detail
    if name == "Link":
        return _honest_link(detail or {}, source[start:end].decode("utf-8", "replace"))
    return True


def _honest_link(link: dict[str, Any], written: str) -> bool:
    """An inline link or autolink to an http(s) or mailto URL whose text, if a URL, is it."""
    link_type = link.get("link_type")
    if link_type not in ("Inline", "Autolink", "Email"):
        return False
    target = str(link.get("dest_url", "")).strip()
    scheme = "mailto" if link_type == "Email" else urlsplit(target).scheme.lower()
    if scheme not in _LINK_SCHEMES:
        return False
    if link_type == "Inline":
        label = written[1:].rpartition("](")[0].strip()
        if re.match(r"(?i)(?:https?://|www\.)", label) and label.rstrip("/") != target.rstrip("/"):
            return False
    return True


# CJK characters (Han, kana, Hangul, CJK and full-width punctuation): beside one, a
# delimiter run flanks as if beside a space (the CJK-friendly amendment to CommonMark).
_CJK = re.compile(
    "[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef\U00020000-\U0003134f]"
)
_STARS = re.compile(r"\*+")
# Where the amendment reads a run otherwise than CommonMark: after a CJK character and before
# punctuation (it may open), or after punctuation and before a CJK character (it may close).
_CJK_THEN_STARS = re.compile(_CJK.pattern + r"\*+(.)", re.DOTALL)
_STARS_THEN_CJK = re.compile(r"(.)\*+" + _CJK.pattern, re.DOTALL)


def _amendment_applies(text: str) -> bool:
    """Whether the CJK-friendly amendment could pair a run of asterisks in `text` that
    CommonMark does not: cheap, and before any parse."""
    if "*" not in text:
        return False
    return any(
        unicodedata.category(found.group(1))[0] in "PS"
        for pattern in (_CJK_THEN_STARS, _STARS_THEN_CJK)
        for found in pattern.finditer(text)
    )


CJK_EMPHASIS_MARKS = {
    ("**", True): "\ue002", ("**", False): "\ue003", ("*", True): "\ue004", ("*", False): "\ue005"
}  # fmt: skip
"""What `block(emphasis_marks=True)` writes for an opening or closing delimiter (private-use
characters, which `normalize` removes from any text, so none can be forged)."""


def _flanking(before: str, after: str) -> tuple[bool, bool, bool]:
    """Whether a delimiter run between `before` and `after` ("" at an edge of the line) is
    left- and right-flanking under the CJK-friendly amendment, and whether CommonMark
    itself would find it both (then it pairs such runs on its own)."""

    def space(char: str) -> bool:
        return not char or char.isspace()

    def punctuation(char: str) -> bool:
        return bool(char) and unicodedata.category(char)[0] in "PS"

    def cjk(char: str) -> bool:
        return bool(char) and _CJK.match(char) is not None

    left = not space(after) and (
        not punctuation(after) or space(before) or punctuation(before) or cjk(before)
    )
    right = not space(before) and (
        not punctuation(before) or space(after) or punctuation(after) or cjk(after)
    )
    plain_left = not space(after) and (
        not punctuation(after) or space(before) or punctuation(before)
    )
    plain_right = not space(before) and (
        not punctuation(before) or space(after) or punctuation(after)
    )
    return left, right, plain_left and plain_right


def _neighbours(source: bytes, start: int, end: int) -> tuple[str, str]:
    """The characters just before and after `source[start:end]` ("" at a line's edge)."""
    before = source[max(0, start - 4) : start].decode("utf-8", "ignore")[-1:]
    after = source[end : end + 4].decode("utf-8", "ignore")[:1]
    return ("" if before == "\n" else before), ("" if after == "\n" else after)


def _line_cjk_emphasis(
    source: bytes, start: int, end: int, text: str
) -> list[tuple[int, int, int]]:
    """The CJK-friendly emphasis of the text at `source[start:end]`, only where no run of
    asterisks on its line is longer than two or reaches into the text from outside it
    (CommonMark took part of it): there kramdown may pair the runs otherwise."""
    before, after = _neighbours(source, start, end)
    if (before == "*" and text.startswith("*")) or (after == "*" and text.endswith("*")):
        return []
    line_start = source.rfind(b"\n", 0, start) + 1
    line_end = source.find(b"\n", end)
    line = source[line_start : None if line_end < 0 else line_end]
    if b"***" in line.replace(b"\\*", b""):
        return []
    return cjk_emphasis(text, before, after)


def cjk_emphasis(text: str, before: str, after: str) -> list[tuple[int, int, int]]:
    """The emphasis CommonMark leaves as text in `text` (between `before` and `after`, the
    characters around it) that the CJK-friendly amendment reads: `**99.40%**的`. Each as
    (opening index, closing index, delimiter length), for `*` runs of one or two only, and
    none unless every run pairs."""
    if not _amendment_applies(before + text + after):
        return []
    pairs: list[tuple[int, int, int]] = []
    openers: list[tuple[int, int]] = []
    runs = list(_STARS.finditer(text))
    for run in runs:
        start, end = run.span()
        length = end - start
        if length > 2:
            openers.clear()
            continue
        left, right, _ = _flanking(
            text[start - 1] if start else before, text[end] if end < len(text) else after
        )
        opener = next((i for i in range(len(openers) - 1, -1, -1) if openers[i][1] == length), None)
        if right and opener is not None and openers[opener][0] + length < start:
            pairs.append((openers[opener][0], start, length))
            del openers[opener:]
        elif left:
            openers.append((start, length))
    # Only where every run pairs: beside a stray one, kramdown may pair them otherwise.
    return pairs if 2 * len(pairs) == len(runs) else []


class _Edits:
    """Replacements of byte ranges of the source, applied at once."""

    def __init__(self, source: bytes, *, emphasis: bool) -> None:
        self.source = source
        self.emphasis = emphasis
        """Whether emphasis is allowed, so that the CJK-friendly kind is kept too."""
        self.replacements: list[tuple[int, int, bytes]] = []
        self.escaped: list[tuple[int, int]] = []
        self.marks: _Marks = []
        """Where the kept CJK-friendly delimiters stand, for `block(emphasis_marks=True)`."""

    def escape(self, start: int, end: int) -> None:
        """`source[start:end]` shown literally: every escapable character escaped."""
        self.escaped.append((start, end))

    def escape_text(self, start: int, end: int, value: str, *, linkify: bool = False) -> None:
        """Text that CommonMark reads literally, escaped where kramdown would read more,
        and (with `linkify`) its bare http(s) URLs made autolinks, which both grammars
        read as links: readers of either page can follow them.

        `value` is the text as read (escapes and entities decoded): every character the
        source could need escaped shows in it, so text without any is passed by at once.
        """
        if _MIXED_UNDERLINE.fullmatch(value) and not self._escaped_before(start):
            # `=-=` under a line: text to CommonMark, a heading's underline to kramdown (whose
            # underline is any run of `=` and `-`). Escaped where it starts a line.
            line_start = self.source.rfind(b"\n", 0, start) + 1
            if not self.source[line_start:start].strip(b" \t"):
                mark = start + len(value) - len(value.lstrip(" \t"))
                self.replacements.append((mark, mark + 1, b"\\" + self.source[mark : mark + 1]))
            return
        starts_line_with_colon = value.lstrip(" \t").startswith(":")
        if starts_line_with_colon and self._escaped_before(start):
            starts_line_with_colon = False  # `\:`: the text starts after the backslash
        # A URL written with escapes in it is left as text: its target would be in doubt.
        linkify = linkify and "://" in value and b"\\" not in self.source[start:end]
        special = linkify or _TEXT_SPECIAL.search(value) is not None
        if not starts_line_with_colon and not special:
            return
        source = self.source
        line_start = source.rfind(b"\n", 0, start) + 1
        # Text holds no newline (breaks are events of their own): only its start can be
        # the start of a line, where kramdown reads `:` as a definition.
        colon_at_line_start = starts_line_with_colon and not source[line_start:start].strip(b" \t")
        if colon_at_line_start and not special:
            colon = start + len(value) - len(value.lstrip(" \t"))
            if source[colon : colon + 1] == b":":  # (not an entity): escaped where it stands
                self.replacements.append((colon, colon + 1, b"\\:"))
                return

        def escape_words(piece: str, first: bool) -> str:
            piece = _TEXT_IN_CONTEXT.sub(r"\\", piece).translate(_TEXT_ALWAYS)
            if first and colon_at_line_start:
                blanks = len(piece) - len(piece.lstrip(" \t"))
                if piece[blanks : blanks + 1] == ":":
                    piece = f"{piece[:blanks]}\\{piece[blanks:]}"
            return piece

        def escape_piece(piece: str, first: bool) -> str:
            if not linkify:
                return escape_words(piece, first)
            out, position = [], 0
            for found in _BARE_URL.finditer(piece):
                url = found.group().rstrip(_URL_TRAILING)
                if url.endswith("://"):  # nothing after the scheme once the stop is cut
                    continue
                out += [escape_words(piece[position : found.start()], first and not position)]
                out += ["<", url, ">"]
                position = found.start() + len(url)
            out.append(escape_words(piece[position:], first and not position))
            return "".join(out)

        kept = self._cjk_emphasis(start, end, value) if self.emphasis and not linkify else []
        if kept:
            # Their delimiters stay as written, the text between them escaped as any.
            pieces, position = [], 0
            for opening, closing, length in kept:
                for delimiter, opens in ((opening, True), (closing, False)):
                    pieces.append(escape_piece(value[position:delimiter], not position))
                    pieces.append(value[delimiter : delimiter + length])
                    at = start + len(value[:delimiter].encode("utf-8"))
                    self.marks.append((at, length, CJK_EMPHASIS_MARKS["*" * length, opens]))
                    position = delimiter + length
            pieces.append(escape_piece(value[position:], not position))
            self.replacements.append((start, end, "".join(pieces).encode("utf-8")))
            return
        self._rewrite(start, end, escape_piece)

    def _cjk_emphasis(self, start: int, end: int, value: str) -> list[tuple[int, int, int]]:
        """The CJK-friendly emphasis in the text at `start:end`, when the text is written
        as it reads (no escape or entity, whose positions would shift)."""
        if "*" not in value or self.source[start:end] != value.encode("utf-8"):
            return []
        return _line_cjk_emphasis(self.source, start, end, value)

    def _rewrite(self, start: int, end: int, escape_piece: Any) -> None:
        """Apply `escape_piece` to the text between the escapes already in `source[start:end]`
        (a character escaped by a backslash just before the range is left alone too)."""
        text = self.source[start:end].decode("utf-8")
        kept = ""
        if self._escaped_before(start) and text:
            kept, text = text[0], text[1:]
        if "\\" not in text:
            rewritten_text = kept + escape_piece(text, not kept)
            if rewritten_text.encode("utf-8") != self.source[start:end]:
                self.replacements.append((start, end, rewritten_text.encode("utf-8")))
            return
        pieces = _ESCAPE_PAIR.split(text)
        out = [kept] + [
            escape_piece(piece, index == 0 and not kept) if piece and not index % 2 else piece
            for index, piece in enumerate(pieces)
        ]
        rewritten = "".join(out).encode("utf-8")
        if rewritten != self.source[start:end]:
            self.replacements.append((start, end, rewritten))

    def _escaped_before(self, position: int) -> bool:
        """Whether an odd run of backslashes ends just before `position`."""
        run = 0
        while position - run > 0 and self.source[position - run - 1] == 0x5C:
            run += 1
        return run % 2 == 1

    def canonical_code(self, content: str, start: int, end: int) -> None:
        """A code span with single backticks; one holding a backtick is shown as text."""
        if "`" in content or not content.strip():
            self.escape(start, end)
        elif self.source[start:end] != f"`{content}`".encode():
            self.replacements.append((start, end, f"`{content}`".encode()))

    def canonical_fence(self, start: int, end: int) -> None:
        """A fenced block always closed, its info string one safe word, its content as is."""
        block = self.source[start:end].decode("utf-8")
        lines = block.split("\n")
        opening = lines[0].lstrip(" ")
        indent = lines[0][: len(lines[0]) - len(opening)]
        fence_char = opening[0]
        fence_length = len(opening) - len(opening.lstrip(fence_char))
        words = opening[fence_length:].split()
        language = words[0] if words and _LANGUAGE.fullmatch(words[0]) else ""
        body = lines[1:]
        if body and not body[-1].strip():
            body = body[:-1]
        last = body[-1].strip() if body else ""
        if last and set(last) == {fence_char} and len(last) >= fence_length:
            body = body[:-1]  # the closing fence
        longest = max((len(run) for run in re.findall(r"`+", "\n".join(body))), default=0)
        fence = "`" * max(3, longest + 1)
        rewritten = "\n".join([f"{indent}{fence}{language}", *body, f"{indent}{fence}"])
        rewritten += "\n" if block.endswith("\n") else ""
        if rewritten != block:
            self.replacements.append((start, end, rewritten.encode()))

    def flatten_code(self, start: int, end: int) -> None:
        """An indented code block as plain text: its lines unindented (the indentation is
        what makes it code) and every escapable character escaped (code was literal)."""
        start = self.source.rfind(b"\n", 0, start) + 1
        lines = self.source[start:end].decode("utf-8").split("\n")
        flat = "\n".join(_escaped_all(line.lstrip(" \t")) for line in lines)
        self.replacements.append((start, end, flat.encode()))

    def canonical_link(self, link: dict[str, Any], start: int, end: int) -> None:
        """An inline link's target percent-encoded on one line, its title left out."""
        if link.get("link_type") != "Inline":
            return
        target = quote(str(link["dest_url"]).strip(), safe=":/?#@!$&*+,;=%~._-")
        closing = self.source.rfind(b"](", start, end)
        if self.source[closing:end] != f"]({target})".encode():
            self.replacements.append((closing, end, f"]({target})".encode()))

    def canonical_math(self, kind: str, tex: str, start: int, end: int) -> None:
        """Formulas as kramdown's `$$ … $$` (a `$ … $` too, which kramdown would not read),
        their TeX without `|` (kramdown would start a table): `\\vert` and `\\Vert` instead."""
        if "|" in tex or kind == "InlineMath":
            rewritten = "$$" + _PIPE_IN_TEX.sub(_vert, tex) + "$$"
            self.replacements.append((start, end, rewritten.encode()))

    def apply(self) -> bytes:
        for start, end in _merged(self.escaped):
            self._rewrite(start, end, lambda piece, first: _escaped_all(piece))
        out = bytearray()
        position = 0
        for start, end, text in sorted(self.replacements):
            if start < position:  # inside an earlier, larger replacement
                continue
            out += self.source[position:start]
            out += text
            position = end
        out += self.source[position:]
        return bytes(out)


def _vert(found: re.Match[str]) -> str:
    written = found.group(1)
    if written == "\\\\":
        return written
    # A control word ends at a non-letter: the space only where a letter follows.
    word = "\\Vert" if written == "\\|" else "\\vert"
    return f"{word} " if found.group(2) else word


def _merged(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Overlapping and touching ranges as one (many small escapes become a few large ones)."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _flatten_deep_lines(text: str) -> str:
    """The container markers of a line that nests deeper than the allowlist, escaped."""
    return _DEEP_PREFIX.sub(lambda found: _escaped_all(found.group()), text)


def _escaped_all(text: str) -> str:
    """Every escapable character escaped, but the bracket entities an earlier pass wrote
    (escaping their `#` would show `&#93;` instead of `]`)."""
    if "&#9" not in text:
        return text.translate(_ESCAPE_ALL)
    parts = _BRACKET_ENTITY.split(text)
    return "".join(
        part if index % 2 else part.translate(_ESCAPE_ALL) for index, part in enumerate(parts)
    )


def _latex_formulas(text: str, *, code_is_literal: bool = False) -> str:
    """`\\( … \\)` and `\\[ … \\]` outside code (anywhere, with `code_is_literal`) rewritten as kramdown's `$$ … $$`, which
    both renderers keep intact (kramdown would eat the backslashes and read `_` as
    emphasis). A formula stays on one line; one holding `$$` is left as it is.

    One scan over the delimiters pairs each opener with the next closer of its kind on
    its line, so that no text of openers costs more than its length.
    """
    if "\\(" not in text and "\\[" not in text:
        return text
    code = [] if code_is_literal else _code_ranges(text)
    pieces = []
    position = 0
    opened: tuple[int, str] | None = None  # where the open formula starts, and its closer
    for found in _LATEX_DELIMITER.finditer(text):
        delimiter = found.group()
        if delimiter in ("\n", "\\\\"):
            opened = None if delimiter == "\n" else opened
            continue
        if opened is not None and delimiter == opened[1]:
            start = opened[0]
            tex = text[start + 2 : found.start()]
            opened = None
            if tex.strip() and "$$" not in tex and not _inside(code, start):
                pieces += [text[position:start], "$$", tex, "$$"]
                position = found.end()
        elif delimiter in ("\\(", "\\[") and opened is None:
            opened = (found.start(), "\\)" if delimiter == "\\(" else "\\]")
    pieces.append(text[position:])
    return "".join(pieces)


def _inside(ranges: list[tuple[int, int]], position: int) -> bool:
    index = bisect.bisect_right(ranges, (position, len(ranges) and 2**62)) - 1
    return index >= 0 and ranges[index][0] <= position < ranges[index][1]


def _code_ranges(text: str) -> list[tuple[int, int]]:
    """Character ranges of code spans and code blocks, in order."""
    spans = []
    for raw, span in pyromark.events_with_range(text, options=_OPTIONS, merge_text=True):
        if isinstance(raw, str):
            continue
        event = cast(dict[str, Any], raw)
        opened = event.get("Start")
        if "Code" in event or (isinstance(opened, dict) and "CodeBlock" in opened):
            spans.append((span["start"], span["end"]))
    # Byte offsets to character offsets in one sweep, not one decode per span.
    source = text.encode("utf-8")
    characters: dict[int, int] = {}
    byte_position = character_position = 0
    for offset in sorted({offset for span in spans for offset in span}):
        character_position += len(source[byte_position:offset].decode("utf-8"))
        byte_position = offset
        characters[offset] = character_position
    return [(characters[start], characters[end]) for start, end in spans]
