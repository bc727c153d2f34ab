"""Papers ranked for the site's owner: a relevance score for each from a model trained on
what the owner likes (`interests.liked`, `interests.library`) against the archive's other
papers, with the few terms that explain it, as arxiv-sanity ranks: TF-IDF over titles and
abstracts (words and word pairs) and a linear classifier (scikit-learn's logistic
regression, classes balanced). Nothing is downloaded, and nothing is recorded: the scores
are derived at each `digest site`, so a change of likes ranks every page again.

A paper whose title or abstract has a word of `interests.avoid` is never recommended.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from arxiv_digest.config import InterestsSettings
from arxiv_digest.errors import ConfigError
from arxiv_digest.models import Paper, base_id
from arxiv_digest.record import Records

if TYPE_CHECKING:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

PICK_FROM_SCORE = 50
"""A paper is recommended when the owner more likely wants it than not."""
_TERMS = 3
_LARGE_ARCHIVE = 1000
T = TypeVar("T")
_BIBTEX_ENTRY = re.compile(r"@\w+\s*\{", re.MULTILINE)
_BIBTEX_FIELD = re.compile(r"(?i)\b(title|abstract)\s*=\s*")


@dataclass(frozen=True)
class Relevance:
    score: int
    """0 to 100: how likely the owner is to want it, as the model judges."""
    terms: tuple[str, ...]
    """The terms that raise its score most (none for an avoided paper)."""
    avoided: str = ""
    """The `interests.avoid` word it has, if any."""


def top_picks(items: Iterable[T], score: Callable[[T], int], limit: int) -> list[T]:
    """The items to recommend, best first: those scoring `PICK_FROM_SCORE` or more, at most
    `limit` (`interests.picks`)."""
    chosen = [item for item in items if score(item) >= PICK_FROM_SCORE]
    return sorted(chosen, key=score, reverse=True)[:limit]


def ranker_for(records: Records, settings: InterestsSettings) -> Ranker | None:
    """The owner's likes trained against every paper of the archive, when the site has likes
    (`interests`); else None."""
    return Ranker.train(records.shown_papers(), settings) if settings.enabled else None


def text_of(paper: Paper) -> str:
    """What the model reads of a paper: its title and abstract."""
    return f"{paper.title}\n{paper.abstract or ''}"


class Ranker:
    """A model of the owner's likes, trained on an archive of papers."""

    def __init__(
        self,
        vectorizer: TfidfVectorizer,
        model: LogisticRegression,
        avoid: Sequence[str],
    ) -> None:
        self._vectorizer = vectorizer
        self._model = model
        self._avoid = [word.casefold() for word in avoid if word.strip()]
        self._names = vectorizer.get_feature_names_out()

    @classmethod
    def train(cls, archive: Iterable[Paper], settings: InterestsSettings) -> Ranker | None:
        """A ranker of the owner's likes against `archive`; None without any like the archive
        or the library holds, or without any other paper to tell them from."""
        liked_ids = {base_id(_without_prefix(item)) for item in settings.liked}
        liked: list[str] = []
        others: list[str] = []
        for paper in archive:
            (liked if paper.base_id in liked_ids else others).append(text_of(paper))
        if settings.library is not None:
            liked += read_library(settings.library)
        if not liked or not others:
            return None
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression

        texts = liked + others
        # In a large archive a word pair seen once says nothing and costs time; in a small
        # one every term counts.
        vectorizer = TfidfVectorizer(
            stop_words="english",
            ngram_range=(1, 2),
            sublinear_tf=True,
            min_df=2 if len(texts) >= _LARGE_ARCHIVE else 1,
            max_df=0.5 if len(texts) >= _LARGE_ARCHIVE else 1.0,
        )
        try:
            features = vectorizer.fit_transform(texts)
        except ValueError:  # no term left (papers without words the vectorizer keeps)
            return None
        labels = [1] * len(liked) + [0] * len(others)
        model = LogisticRegression(class_weight="balanced", C=4.0, max_iter=1000)
        model.fit(features, labels)
        return cls(vectorizer, model, settings.avoid)

    def relevance(self, papers: Sequence[Paper]) -> list[Relevance]:
        """Each paper's relevance, in order."""
        if not papers:
            return []
        texts = [text_of(paper) for paper in papers]
        features = self._vectorizer.transform(texts)
        probabilities = self._model.predict_proba(features)[:, 1]
        weights = self._model.coef_[0]
        found = []
        for row, (text, probability) in enumerate(zip(texts, probabilities, strict=True)):
            avoided = next((word for word in self._avoid if word in text.casefold()), "")
            if avoided:
                found.append(Relevance(0, (), avoided))
                continue
            vector = features.getrow(row)
            contributions = sorted(
                (
                    (value * weights[index], self._names[index])
                    for index, value in zip(vector.indices, vector.data, strict=True)
                    if weights[index] > 0
                ),
                reverse=True,
            )
            found.append(
                Relevance(
                    round(100 * float(probability)),
                    tuple(str(name) for _, name in contributions[:_TERMS]),
                )
            )
        return found


def read_library(path: Path) -> list[str]:
    """The titles and abstracts of a BibTeX (.bib) or CSL JSON (.json, Zotero's export)
    library, one text a paper. ConfigError names a file that cannot be read."""
    try:
        content = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(str(path), [f"interests.library cannot be read: {error}"]) from None
    if path.suffix.lower() == ".json":
        try:
            items: Any = json.loads(content)
        except ValueError as error:
            raise ConfigError(str(path), [f"interests.library is not JSON: {error}"]) from None
        if isinstance(items, dict):
            items = items.get("items", [])
        return [
            f"{item.get('title', '')}\n{item.get('abstract', '')}".strip()
            for item in items
            if isinstance(item, dict) and item.get("title")
        ]
    return [text for text in map(_bibtex_text, _BIBTEX_ENTRY.split(content)[1:]) if text]


def _bibtex_text(entry: str) -> str:
    """An entry's title and abstract, their braces and TeX markup taken away."""
    from pylatexenc.latex2text import LatexNodes2Text

    fields = []
    for found in _BIBTEX_FIELD.finditer(entry):
        value = _braced_value(entry, found.end())
        if value:
            fields.append(LatexNodes2Text().latex_to_text(value))
    return "\n".join(" ".join(field.split()) for field in fields)


def _braced_value(entry: str, start: int) -> str:
    """The value of a field at `start`: `{…}` (braces nested) or `"…"`."""
    if start >= len(entry):
        return ""
    opening = entry[start]
    if opening == '"':
        end = entry.find('"', start + 1)
        return entry[start + 1 : end] if end > 0 else ""
    if opening != "{":
        return ""
    depth = 0
    for index in range(start, len(entry)):
        depth += {"{": 1, "}": -1}.get(entry[index], 0)
        if depth == 0:
            return entry[start + 1 : index]
    return ""


def _without_prefix(item: str) -> str:
    return item.removeprefix("arXiv:").removeprefix("arxiv:")
