"""What the model is asked to do for each shown paper: the task registry, and answer checks.

A task is one entry here: its name (also its key in a day record's `answers` and
in the cache), its prompt template `prompts/{name}.md.j2`, whether the prompt
needs the paper's PDF text, and what makes an answer acceptable.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN_LETTER = re.compile(r"[A-Za-z]")
# A Chinese answer keeps model names and acronyms in English; an English one has no Chinese.
_MIN_CHINESE_SHARE = 0.2
_WHOLE_FENCE = re.compile(r"^(`{3,}|~{3,})[^\n`]*\n(?P<body>.*?)\n?\1[ \t]*$", re.DOTALL)
_PART_HEADING = r"^[ \t]*(?:#+[ \t]*)?(?:\*\*)?{number}[)）]"


class AnswerError(Exception):
    """One request for one task did not give a usable answer; the task may be tried again."""


@dataclass(frozen=True)
class Task:
    name: str
    needs_text: bool
    """Whether the prompt carries the paper's PDF text (so the PDF must be fetched first)."""
    validate: Callable[[str], None]
    """Raises AnswerError for a normalized, non-empty answer that this task cannot use."""

    @property
    def template(self) -> str:
        return f"prompts/{self.name}.md.j2"

    def check(
        self, answer: str, *, require_chinese: bool = True, max_chars: int | None = None
    ) -> str:
        """The normalized answer if it is usable; else AnswerError says why."""
        text = normalize(answer)
        if not text:
            raise AnswerError("empty answer")
        if max_chars is not None and len(text) > max_chars:
            # A runaway or hostile answer is not published, whatever it holds.
            raise AnswerError(
                f"the answer has {len(text)} characters, over llm.max_answer_chars ({max_chars})"
            )
        if require_chinese and not is_chinese(text):
            raise AnswerError("the answer is not in Chinese")
        self.validate(text)
        return text


def _any_text(text: str) -> None:
    """A translation is any non-empty Chinese text."""


def _three_parts(text: str) -> None:
    position = 0
    for number in (1, 2, 3):
        found = re.compile(_PART_HEADING.format(number=number), re.MULTILINE).search(text, position)
        if found is None:
            raise AnswerError(f"the analysis lacks part {number})")
        position = found.end()


TRANSLATION = Task("translation", needs_text=False, validate=_any_text)
ANALYSIS = Task("analysis", needs_text=True, validate=_three_parts)
TASKS: tuple[Task, ...] = (TRANSLATION, ANALYSIS)
"""Every task, in the order a paper shows their answers."""


def chinese_share(text: str) -> float:
    """The share of Chinese characters among the letters of `text` (0 when it has none)."""
    chinese = len(_HAN.findall(text))
    letters = chinese + len(_LATIN_LETTER.findall(text))
    return chinese / letters if letters else 0.0


def is_chinese(text: str) -> bool:
    return chinese_share(text) >= _MIN_CHINESE_SHARE


def normalize(answer: str) -> str:
    """Strip outer whitespace, and unwrap a code fence that wraps the whole answer."""
    text = answer.strip()
    fenced = _WHOLE_FENCE.match(text)
    if fenced is not None:
        text = fenced.group("body").strip()
    return text
