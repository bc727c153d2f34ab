"""What the model is asked to do for each shown paper: the task registry, and answer checks.

A task is one entry here: its name (also its key in a day record's `answers` and
in the cache), its prompt template `prompts/{name}.md.j2` and what that template sees,
whether the prompt needs the paper's PDF text, whether the site turned it on, what an
answer usually costs, and what makes an answer acceptable.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from arxiv_digest import taxonomy
from arxiv_digest.answers import faithful
from arxiv_digest.config import Config, LlmSettings
from arxiv_digest.models import Paper

V = TypeVar("V")

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN_LETTER = re.compile(r"[A-Za-z]")
# A Chinese answer keeps model names and acronyms in English; an English one has no Chinese.
_MIN_CHINESE_SHARE = 0.2
_WHOLE_FENCE = re.compile(r"^(`{3,}|~{3,})[^\n`]*\n(?P<body>.*?)\n?\1[ \t]*$", re.DOTALL)
_FREE_TOPIC = re.compile(r"[a-z][a-z0-9-]{1,29}\Z")
_PART_HEADING = r"^[ \t]*(?:#+[ \t]*)?(?:\*\*)?{number}[)）]"
# Reasoning before the answer: from an opening <think> at the start to the first closing tag
# (or to the end, when it never closes); or up to a closing tag on a line of its own whose
# opening is not there (a `</think>` quoted in prose is not one).
_REASONING = re.compile(
    r"\A\s*(?:<think>(?:(?!</think>).)*+(?P<closed></think>)?"
    r"|(?:(?!<think>).)*?\n[ \t]*(?P<closed_alone></think>)[ \t]*(?=\n|\Z))",
    re.DOTALL | re.IGNORECASE,
)


class AnswerError(Exception):
    """One request for one task did not give a usable answer; the task may be tried again."""


class CutOff(AnswerError):
    """The provider stopped the answer at the request's output limit (`finish_reason: length`)."""


class Filtered(AnswerError):
    """The provider's content filter refused the request or stopped its answer."""


@dataclass(frozen=True)
class AnswerRules:
    """What the site's configuration asks of every answer."""

    require_chinese: bool = True
    max_chars: int | None = None
    topics: frozenset[str] = field(default_factory=frozenset)
    """The topic keys a triage answer may name."""
    max_summary_chars: int = 80

    @classmethod
    def of(cls, config: Config) -> AnswerRules:
        return cls(
            require_chinese=config.llm.require_chinese,
            max_chars=config.llm.max_answer_chars,
            topics=frozenset(config.triage.topics),
            max_summary_chars=config.triage.max_summary_chars,
        )


@dataclass(frozen=True)
class Task:
    name: str
    needs_text: bool
    """Whether the prompt carries the paper's PDF text (so the PDF must be fetched first)."""
    validate: Callable[[str, AnswerRules], str]
    """The answer as recorded, from a normalized, non-empty one; AnswerError if unusable."""
    prose: bool = True
    """Whether the answer is Chinese prose as a whole (else its validator checks its fields)."""
    typical_tokens_out: int = 500
    """What an answer usually costs in output tokens, for the estimate before a run."""
    unconfirmed: Callable[[str, Paper, str | None], tuple[str, ...]] | None = None
    """The figures of an answer (given its paper and the paper's text) that its source does
    not confirm."""
    asks_again_when_unconfirmed: bool = False
    """Whether such an answer is asked for again (and kept, marked, only after every try)."""
    switch: Callable[[Config], bool] | None = None
    """The setting that turns the task off, if one can."""

    @property
    def template(self) -> str:
        return f"prompts/{self.name}.md.j2"

    def max_input_tokens(self, settings: LlmSettings) -> int:
        """The input budget of the task's requests (`llm.max_input_tokens`)."""
        return int(getattr(settings.max_input_tokens, self.name))

    def max_output_tokens(self, settings: LlmSettings) -> int:
        """The output limit of the task's requests (`llm.max_output_tokens`)."""
        return int(getattr(settings.max_output_tokens, self.name))

    def check(self, answer: str, rules: AnswerRules) -> str:
        """The answer to record if it is usable; else AnswerError says why. A thinking
        model's reasoning before the answer is never part of it."""
        after_reasoning = without_reasoning(answer)
        text = normalize(after_reasoning)
        if not text:
            raise AnswerError(
                "the answer is only reasoning (<think> with no answer after it)"
                if after_reasoning != answer
                else "empty answer"
            )
        if rules.max_chars is not None and len(text) > rules.max_chars:
            # A runaway or hostile answer is not published, whatever it holds.
            raise AnswerError(
                f"the answer has {len(text)} characters,"
                f" over llm.max_answer_chars ({rules.max_chars})"
            )
        if self.prose and rules.require_chinese and not is_chinese(text):
            raise AnswerError("the answer is not in Chinese")
        return self.validate(text, rules)


def _any_text(text: str, rules: AnswerRules) -> str:
    """A translation is any non-empty Chinese text."""
    return text


def _triage(text: str, rules: AnswerRules) -> str:
    """A JSON object: a Chinese title, a one-sentence Chinese summary, 1–3 topics of the
    site's list (or, for a site without one yet, short keys of the model's own). Recorded as
    canonical JSON (keys in order, no ASCII escapes)."""
    try:
        fields = json.loads(text)
    except json.JSONDecodeError:
        raise AnswerError("the triage is not JSON") from None
    if not isinstance(fields, dict):
        raise AnswerError("the triage is not a JSON object")
    title, summary, topics = fields.get("title_zh"), fields.get("summary_zh"), fields.get("topics")
    for key, value in (("title_zh", title), ("summary_zh", summary)):
        if not isinstance(value, str) or not value.strip():
            raise AnswerError(f"the triage lacks {key}")
        if rules.require_chinese and not is_chinese(value):
            raise AnswerError(f"the triage's {key} is not in Chinese")
    assert isinstance(summary, str) and isinstance(title, str)
    if len(summary.strip()) > rules.max_summary_chars:
        raise AnswerError(
            f"the summary has {len(summary.strip())} characters,"
            f" over triage.max_summary_chars ({rules.max_summary_chars})"
        )
    if not isinstance(topics, list) or not 1 <= len(topics) <= 3:
        raise AnswerError("the triage needs 1 to 3 topics")
    if rules.topics:
        unknown = [topic for topic in topics if topic not in rules.topics]
        if unknown:
            raise AnswerError(f"topics not in triage.topics: {', '.join(map(str, unknown))}")
    else:  # a site without topics yet: the triage proposes its own keys
        unfit = [
            topic for topic in topics if not (isinstance(topic, str) and _FREE_TOPIC.match(topic))
        ]
        if unfit:
            raise AnswerError(
                f"topics must be short lower-case keys (a-z, 0-9, -): {', '.join(map(str, unfit))}"
            )
    canonical = {
        "title_zh": " ".join(title.split()),
        "summary_zh": " ".join(summary.split()),
        "topics": list(dict.fromkeys(topics)),
    }
    return json.dumps(canonical, ensure_ascii=False)


ANALYSIS_PARTS = (
    "研究背景，以及既有方法存在的问题",
    "论文的核心方法如何解决这些问题",
    "在哪些任务上取得了怎样的效果",
)
"""The analysis' three parts as its prompt names them, in order: the prompt lists them and
the site's paper page heads each part of an answer with its name."""
_PARTS = [
    re.compile(_PART_HEADING.format(number=number), re.MULTILINE)
    for number in range(1, len(ANALYSIS_PARTS) + 1)
]


def _three_parts(text: str, rules: AnswerRules) -> str:
    _part_spans(text)
    return text


def analysis_parts(text: str) -> tuple[str, ...] | None:
    """The bodies of a recorded analysis' parts, in order, each without its number (and
    without the bold its number opened, `**1) 研究背景**`); None if it lacks one of them."""
    try:
        spans = _part_spans(text)
    except AnswerError:
        return None
    bodies = []
    for index, (start, end) in enumerate(spans):
        stop = spans[index + 1][0] if index + 1 < len(spans) else len(text)
        body = text[end:stop]
        if "**" in text[start:end]:
            line_end = body.find("\n")
            closing = body.find("**", 0, len(body) if line_end < 0 else line_end)
            if closing >= 0:
                body = body[:closing] + body[closing + 2 :]
        bodies.append(body.strip())
    return tuple(bodies)


def _part_spans(text: str) -> list[tuple[int, int]]:
    """Where each part's number is in an analysis; AnswerError names the first one missing."""
    spans = []
    position = 0
    for number, part in enumerate(_PARTS, start=1):
        found = part.search(text, position)
        if found is None:
            raise AnswerError(f"the analysis lacks part {number})")
        spans.append((found.start(), found.end()))
        position = found.end()
    return spans


@dataclass(frozen=True)
class Triage:
    """A recorded triage answer's fields."""

    title_zh: str
    summary_zh: str
    topics: tuple[str, ...]
    """Topic keys of the site's `triage.topics`, in the answer's order."""


def parse_triage(answer: str) -> Triage:
    """The fields of a triage answer as recorded (the canonical JSON `_triage` returns)."""
    fields = json.loads(answer)
    return Triage(
        title_zh=str(fields["title_zh"]),
        summary_zh=str(fields["summary_zh"]),
        topics=tuple(str(topic) for topic in fields["topics"]),
    )


# Typical output from the reference posts: a translation of 300–400 Chinese characters,
# an analysis of about 1,500.
TRANSLATION = Task(
    "translation",
    needs_text=False,
    validate=_any_text,
    typical_tokens_out=500,
    unconfirmed=lambda answer, paper, _: faithful.missing_from_translation(
        paper.abstract or "", answer
    ),
    asks_again_when_unconfirmed=True,
)
ANALYSIS = Task(
    "analysis",
    needs_text=True,
    validate=_three_parts,
    typical_tokens_out=1500,
    unconfirmed=lambda answer, _, text: faithful.unsupported_numbers(answer, text or ""),
)
TRIAGE = Task(
    "triage",
    needs_text=False,
    validate=_triage,
    prose=False,
    typical_tokens_out=100,
    switch=lambda config: config.triage.enabled,
)
TASKS: tuple[Task, ...] = (TRANSLATION, ANALYSIS, TRIAGE)
"""Every task, in the order a record lists their answers."""


def enabled_tasks(config: Config) -> tuple[Task, ...]:
    """The tasks this site asks of the model."""
    return tuple(task for task in TASKS if task.switch is None or task.switch(config))


def prompt_values(config: Config) -> Mapping[str, object]:
    """What the prompt templates see besides the paper and its text: the site's topics,
    which the triage's prompt lists; the analysis' parts, which its prompt names; and the
    site's field by its categories' names (None for audio and speech, which the default
    prompts name themselves)."""
    return {
        "topics": config.triage.topics,
        "analysis_parts": ANALYSIS_PARTS,
        "field": taxonomy.field_name(list(config.arxiv.categories)),
    }


def in_task_order(answers: dict[str, V]) -> dict[str, V]:
    """The same answers by task, in the registry's order (others, from a newer version, after)."""
    order = {task.name: index for index, task in enumerate(TASKS)}
    return dict(sorted(answers.items(), key=lambda item: (order.get(item[0], len(order)), item[0])))


def chinese_share(text: str) -> float:
    """The share of Chinese characters among the letters of `text` (0 when it has none)."""
    chinese = len(_HAN.findall(text))
    letters = chinese + len(_LATIN_LETTER.findall(text))
    return chinese / letters if letters else 0.0


def is_chinese(text: str) -> bool:
    return chinese_share(text) >= _MIN_CHINESE_SHARE


def without_reasoning(answer: str) -> str:
    """`answer` without the reasoning a thinking model writes into its content before the
    answer: `<think>…</think>` (as vLLM and Ollama serve Qwen3 and the R1 distills), or all up
    to a `</think>` whose opening tag the chat template wrote into the prompt. An opening
    `<think>` never closed leaves nothing: the answer is only reasoning."""
    found = _REASONING.match(answer)
    if found is None:
        return answer
    closed = found.group("closed") or found.group("closed_alone")
    return answer[found.end() :] if closed else ""


def normalize(answer: str) -> str:
    """Strip outer whitespace, and unwrap a code fence that wraps the whole answer."""
    text = answer.strip()
    fenced = _WHOLE_FENCE.match(text)
    if fenced is not None:
        text = fenced.group("body").strip()
    return text
