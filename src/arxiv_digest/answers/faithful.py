"""Whether an answer keeps to its source in the figures a reader acts on.

A translation must keep each number, percentage and Latin-script name (a model, a data
set, an acronym) of the English abstract, in any of the usual forms (`1,444` or `1444`;
`27.84%`, `27.84 %` or `27.84％`); one that drops or alters any is asked for again, and
kept with the list only when every attempt fails so. An analysis is checked the other way:
the numbers it gives that appear nowhere in the paper's text are listed, not refused
(an analysis may compute or round).

A number counts when a reader would act on it: a decimal, a percentage, or two digits or
more (a lone digit is as often written in Chinese). A name counts when it is more than an
English word: a capital after its first letter (`HuBERT`, `WavLM`), a digit (`wav2vec`),
or all capitals (`WER`).
"""

from __future__ import annotations

import re
import unicodedata

# ASCII boundaries: in Chinese a number stands right beside characters that `\w` matches.
# Possessive: `2601.03227v1` (an arXiv id) is no number, not `2601` and `03227` either.
_NUMBER = re.compile(r"(?<![A-Za-z0-9.])(\d{1,3}(?:,\d{3})++|\d++)(\.\d++)?+(\s?%)?(?![A-Za-z0-9])")
_NAME = re.compile(r"(?<![A-Za-z0-9])[A-Za-z][A-Za-z0-9]*(?![A-Za-z0-9])")


def _plain(text: str) -> str:
    """Full-width forms as ASCII (`２７．８％` reads as `27.8%`)."""
    return unicodedata.normalize("NFKC", text)


def numbers(text: str) -> dict[str, str]:
    """The numbers a reader acts on in `text`: each as compared (no thousands separators,
    no space before `%`) → as written first."""
    found: dict[str, str] = {}
    for match in _NUMBER.finditer(_plain(text)):
        whole, decimals, percent = match.groups()
        digits = whole.replace(",", "")
        if not decimals and not percent and len(digits) < 2:
            continue
        compared = digits + (decimals or "") + ("%" if percent else "")
        found.setdefault(compared, match.group())
    return found


def names(text: str) -> list[str]:
    """The Latin-script names in `text` that are more than English words, in order."""
    found: dict[str, None] = {}
    for match in _NAME.finditer(_plain(text)):
        word = match.group()
        if (
            any(char.isupper() for char in word[1:])
            or any(char.isdigit() for char in word)
            or (len(word) >= 2 and word.isupper())
        ):
            found.setdefault(word, None)
    return list(found)


def missing_from_translation(abstract: str, translation: str) -> tuple[str, ...]:
    """The abstract's figures and names that the translation does not give, as the
    abstract writes them."""
    kept_numbers = numbers(translation)
    plain = _plain(translation)
    missing = [
        written for compared, written in numbers(abstract).items() if compared not in kept_numbers
    ]
    missing += [
        name
        for name in names(abstract)
        if not re.search(rf"(?<![A-Za-z0-9]){re.escape(name)}(?![a-z0-9])", plain)
    ]
    return tuple(missing)


def unsupported_numbers(analysis: str, paper_text: str) -> tuple[str, ...]:
    """The numbers the analysis gives that appear nowhere in the paper's text."""
    in_paper = numbers(paper_text)
    return tuple(
        written for compared, written in numbers(analysis).items() if compared not in in_paper
    )
