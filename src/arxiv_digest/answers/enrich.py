"""Enrich stage: the answers the shown papers still lack, as plan → execute → accept.

- plan: which (paper, task) pairs have no answer in the day's record yet. A
  recorded answer is final: it is never asked for again, whatever the cache holds.
- execute: the prompt of each need is rendered (after fetching the paper's text
  when the task needs it) and looked up in the cache; only a miss reaches the
  executor, which sends it to the model (in batch mode, to a batch: the need is then
  pending until a later run collects its answer).
- accept: the task's checks; a usable answer goes to the cache at once, so an
  interrupted run resumes where it stopped; an unusable one is asked again, up
  to `llm.max_attempts`, and then becomes a gap with its reason.

Each need's prompt is rendered once and its cache entry looked up once, whether the
estimate or the request comes first. The links a paper gives are found in the text
read for it, and returned with the outcomes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import TYPE_CHECKING, Protocol

import jinja2

from arxiv_digest.answers import budget, htmltext, pdftext
from arxiv_digest.answers.cache import AnswerKey, Store, StoredText
from arxiv_digest.answers.executor import Completion, Deferred, Executor
from arxiv_digest.answers.links import find_links
from arxiv_digest.answers.prompts import Prompt, prompt_sha256, render_prompt
from arxiv_digest.answers.tasks import TASKS, AnswerError, AnswerRules, CutOff, Filtered, Task
from arxiv_digest.config import LlmSettings
from arxiv_digest.errors import DigestError, PdfError
from arxiv_digest.models import Answer, Gap, Link, Paper, Pending, Usage

if TYPE_CHECKING:
    from arxiv_digest.answers.pdfsource import TextSource

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Need:
    """An answer a shown paper lacks."""

    paper: Paper
    task: Task
    day: date | None = None
    """The day that shows the paper, for messages."""
    batch_id: str | None = None
    """The provider's batch its record says it was sent in (batch mode)."""

    @property
    def label(self) -> str:
        """How messages name it: `2026-02-13 2602.20005v1 analysis`."""
        day = f"{self.day} " if self.day else ""
        return f"{day}{self.paper.arxiv_id} {self.task.name}"


class Tracker(Protocol):
    """Follows a run's progress: what is planned, and each need as it is settled."""

    def planned(self, needs: Sequence[Need]) -> None: ...

    def finished(self, need: Need, outcome: Outcome, *, cached: bool, usage: Usage) -> None: ...


class _Untracked:
    def planned(self, needs: Sequence[Need]) -> None:
        pass

    def finished(self, need: Need, outcome: Outcome, *, cached: bool, usage: Usage) -> None:
        pass


def needs_of(
    shown: Iterable[tuple[Paper, Mapping[str, Answer], date | None]],
    tasks: Sequence[Task] = TASKS,
    pending: Mapping[str, Mapping[str, str]] | None = None,
) -> list[Need]:
    """One need for each shown paper (with its day) and task without a recorded answer, with
    the batch the record says it waits in (`pending`, by arXiv id and task)."""
    return [
        Need(paper, task, day, (pending or {}).get(paper.arxiv_id, {}).get(task.name))
        for paper, answers, day in shown
        for task in tasks
        if task.name not in answers
    ]


def accept(task: Task, key: AnswerKey, completion: Completion, rules: AnswerRules) -> Answer:
    """The answer to record, if `completion` is whole and passes the task's checks; else
    AnswerError (CutOff, Filtered) says why."""
    if completion.finish_reason == "length":
        raise CutOff(f"cut off at the output limit ({completion.tokens_out} tokens out)")
    if completion.finish_reason == "content_filter":
        raise Filtered("the provider's content filter stopped the answer")
    text = task.check(completion.text, rules)
    return Answer(
        text=text,
        model=key.model,
        prompt_sha256=key.prompt_sha256,
        tokens_in=completion.tokens_in,
        tokens_out=completion.tokens_out,
    )


@dataclass
class EnrichStats:
    by_need: dict[tuple[str, str], Usage] = field(default_factory=dict)
    """Usage by (arXiv id, task name)."""
    gaps: list[Gap] = field(default_factory=list)
    filtered: int = 0
    """Answers the provider's content filter refused, each twice."""

    def usage(self, arxiv_ids: Iterable[str] | None = None, task: str | None = None) -> Usage:
        """The usage summed over `arxiv_ids` (every paper when None), of `task` (or all)."""
        wanted = None if arxiv_ids is None else set(arxiv_ids)
        total = Usage()
        for (arxiv_id, name), usage in self.by_need.items():
            if (wanted is None or arxiv_id in wanted) and task in (None, name):
                total.add(usage)
        return total


Outcome = Answer | Gap | Pending


@dataclass(frozen=True)
class Enriched:
    """What the enrich stage returns."""

    outcomes: dict[tuple[str, str], Outcome]
    """The outcome of every need, by (arXiv id, task name)."""
    links: dict[str, tuple[Link, ...]]
    """The links each paper whose text was read this run gives, in its abstract, its
    comment and that text."""


@dataclass(frozen=True)
class TextRead:
    """What a paper's answers on its text read: where the text came from, and what of it
    was left out to fit the task's token budget."""

    text: str
    source: str
    cut: tuple[str, ...]


@dataclass(frozen=True)
class Estimate:
    """What the needs will cost before any is asked: requests, and estimated tokens."""

    requests_by_task: dict[str, int]
    tokens_in: int
    tokens_out: int
    asks: tuple[bool, ...]
    """For each need, whether it will make a request (False: its cache holds the answer)."""

    @property
    def requests(self) -> int:
        return sum(self.requests_by_task.values())


@dataclass
class Enricher:
    executor: Executor
    store: Store
    texts: TextSource
    templates: jinja2.Environment
    settings: LlmSettings
    rules: AnswerRules
    progress: Progress
    prompt_values: Mapping[str, object] = field(default_factory=dict)
    """What prompt templates see besides the paper and its text (e.g. the site's topics)."""
    tracker: Tracker = field(default_factory=_Untracked)
    stats: EnrichStats = field(default_factory=EnrichStats)
    _prompts: dict[tuple[str, str], Prompt] = field(default_factory=dict)
    _cached: dict[tuple[str, str], Answer | None] = field(default_factory=dict)
    _links: dict[str, tuple[Link, ...]] = field(default_factory=dict)
    _texts: dict[tuple[str, str], TextRead] = field(default_factory=dict)
    """The text sent of each paper read this run: what its analysis is checked against, and
    what the record says of it."""

    async def enrich(self, needs: Sequence[Need]) -> Enriched:
        """The outcome of every need, and the links found in the texts read for them.

        A ModelError (bad key, unknown model) stops everything.
        """
        self.tracker.planned(needs)
        sent_before = {(need.paper.arxiv_id, need.task.name): need.batch_id for need in needs}
        try:
            async with asyncio.TaskGroup() as group:
                running = [group.create_task(self._tracked(need)) for need in needs]
                group.create_task(self.executor.gathered(running, sent_before))
        except* DigestError as failures:
            # The first fatal error is the one to report; the others are its echoes.
            raise failures.exceptions[0] from None
        outcomes = {
            (need.paper.arxiv_id, need.task.name): task.result()
            for need, task in zip(needs, running, strict=True)
        }
        return Enriched(outcomes=outcomes, links=dict(self._links))

    def estimate(self, needs: Sequence[Need]) -> Estimate:
        """The requests and tokens `needs` will cost. A need whose paper's text is not cached
        yet is counted at its whole budget (`llm.max_input_tokens`); a cached answer costs
        nothing, nor, in batch mode, does one its record says waits in a batch (paid for when
        it was sent)."""
        by_task: dict[str, int] = {}
        tokens_in = tokens_out = 0
        asks = []
        for need in needs:
            if need.batch_id is not None and self.settings.mode == "batch":
                asks.append(False)
                continue
            prompt = self._prompt_if_known(need)
            if prompt is not None and self._cached_answer(need, prompt) is not None:
                asks.append(False)
                continue
            asks.append(True)
            by_task[need.task.name] = by_task.get(need.task.name, 0) + 1
            if prompt is None:
                tokens_in += need.task.max_input_tokens(self.settings)
            else:
                tokens_in += budget.estimate_tokens(prompt["system"] + prompt["user"])
            tokens_out += need.task.typical_tokens_out
        return Estimate(by_task, tokens_in, tokens_out, tuple(asks))

    def _prompt_if_known(self, need: Need) -> Prompt | None:
        """The need's prompt, when it can be made without a download."""
        if not need.task.needs_text:
            return self._rendered(need, None)
        stored = self.store.text(need.paper.arxiv_id, self.texts.extractor)
        if stored is None:
            return None
        return self._rendered(need, self._model_input(need, stored).text)

    def _rendered(self, need: Need, text: str | None) -> Prompt:
        """The need's prompt, rendered once (its text is the same whenever it is known)."""
        key = (need.paper.arxiv_id, need.task.name)
        if key not in self._prompts:
            self._prompts[key] = self._render(need, text)
        return self._prompts[key]

    def _render(self, need: Need, text: str | None) -> Prompt:
        return render_prompt(
            self.templates, need.task.template, need.paper, text, values=self.prompt_values
        )

    def _cached_answer(self, need: Need, prompt: Prompt) -> Answer | None:
        """The cache's answer to the need's prompt, looked up once."""
        key = (need.paper.arxiv_id, need.task.name)
        if key not in self._cached:
            self._cached[key] = self.store.answer(self._key(need, prompt))
        return self._cached[key]

    def _model_input(self, need: Need, stored: StoredText) -> TextRead:
        """What of the paper's text is sent: without references (a PDF's cleaned), capped at
        `llm.max_input_chars`, then cut by section priority to fit the task's token budget
        with the prompt around it. The prompt is rendered here, once (twice when cut)."""
        key = (need.paper.arxiv_id, need.task.name)
        if key not in self._texts:
            reader = htmltext if stored.source == "html" else pdftext
            text = reader.model_input(stored.text, self.settings.max_input_chars)
            counter = budget.counter_for(self.executor.model_name)
            prompt = self._render(need, text)
            tokens = counter.count(prompt["system"] + prompt["user"])
            limit = need.task.max_input_tokens(self.settings)
            cut: tuple[str, ...] = ()
            if tokens > limit:
                room = max(limit - (tokens - counter.count(text)), 0)
                fitted = budget.within_budget(text, room, counter)
                text, cut = fitted.text, fitted.cut
                prompt = self._render(need, text)
            self._prompts[key] = prompt
            self._texts[key] = TextRead(text, stored.source, cut)
        return self._texts[key]

    def _key(self, need: Need, prompt: Prompt) -> AnswerKey:
        model = self.executor.model_name
        return AnswerKey(need.paper.arxiv_id, need.task.name, model, prompt_sha256(prompt, model))

    async def _tracked(self, need: Need) -> Outcome:
        usage = self.stats.by_need.setdefault((need.paper.arxiv_id, need.task.name), Usage())
        hits = usage.cache_hits
        outcome = await self._fulfil(need)
        self.tracker.finished(need, outcome, cached=usage.cache_hits > hits, usage=usage)
        return outcome

    async def _fulfil(self, need: Need) -> Outcome:
        paper, task = need.paper, need.task
        usage = self.stats.by_need.setdefault((paper.arxiv_id, task.name), Usage())
        try:
            prompt = await self._prompt(need)
        except PdfError as error:
            return self._gap(need, str(error).removeprefix(f"{paper.arxiv_id}: "))
        if prompt is None:
            return self._gap(need, "the PDF has no extractable text")
        key = self._key(need, prompt)
        cached = self._cached_answer(need, prompt)
        if cached is not None:
            usage.cache_hits += 1
            return self._marked(need, cached)
        # A task on the paper's text takes several times longer than the others: it goes
        # first once its text is ready, so that no long request starts last.
        priority = 1 if task.needs_text else 0
        limit = task.max_output_tokens(self.settings)
        cut_off = filtered = False
        reason = ""
        attempt = 0
        unfaithful: Answer | None = None  # the best answer that lost figures, kept till last
        while attempt < self.settings.max_attempts:
            attempt += 1
            try:
                completion = await self.executor.complete(prompt, usage, limit, priority, key)
                answer = accept(task, key, completion, self.rules)
            except Deferred as deferred:  # the report lists what waits, by batch
                return Pending(paper.arxiv_id, task.name, deferred.batch_id)
            except CutOff as error:
                # Once more with room to finish; cut off again, it is a gap that says so.
                if cut_off:
                    return self._gap(
                        need, f"{error} twice; raise llm.max_output_tokens.{task.name}"
                    )
                cut_off, limit, attempt = True, limit * 2, attempt - 1
                self.progress(f"{need.label}: {error}; asking again with {limit}")
                continue
            except Filtered as error:
                # A filter that refuses twice will refuse again: a gap naming its reason.
                if filtered:
                    self.stats.filtered += 1
                    return self._gap(need, str(error))
                filtered, attempt = True, attempt - 1
                self.progress(f"{need.label}: {error}; asking once more")
                continue
            except AnswerError as error:
                reason = str(error)
                self.progress(f"{need.label}: attempt {attempt} failed: {reason}")
                continue
            answer = self._marked(need, answer)
            if answer.unconfirmed and task.asks_again_when_unconfirmed:
                if unfaithful is None or len(answer.unconfirmed) < len(unfaithful.unconfirmed):
                    unfaithful = answer
                self.progress(
                    f"{need.label}: attempt {attempt}: not in the translation:"
                    f" {', '.join(answer.unconfirmed)}"
                )
                continue
            self.store.save_answer(key, answer)
            return answer
        if unfaithful is not None:  # every attempt lost some: the one that lost least, marked
            self.store.save_answer(key, unfaithful)
            return unfaithful
        return self._gap(need, f"{reason} after {self.settings.max_attempts} attempts")

    def _marked(self, need: Need, answer: Answer) -> Answer:
        """`answer` with where its paper's text came from and what of it was cut, and the
        figures its source does not confirm (a cached answer's are found again: the cache
        keeps the text alone)."""
        read = self._texts.get((need.paper.arxiv_id, need.task.name))
        if read is not None:
            answer = replace(answer, source=read.source, cut=read.cut)
        if need.task.unconfirmed is None:
            return answer
        unconfirmed = need.task.unconfirmed(answer.text, need.paper, read.text if read else None)
        return replace(answer, unconfirmed=unconfirmed)

    async def _prompt(self, need: Need) -> Prompt | None:
        """The prompt of `need`; None when its paper's PDF holds no text to send."""
        if not need.task.needs_text:
            return self._rendered(need, None)
        paper = need.paper
        text = self._model_input(need, await self._paper_text(paper)).text
        self._links[paper.arxiv_id] = find_links(paper.abstract, paper.comment, text)
        return self._rendered(need, text) if text else None

    async def _paper_text(self, paper: Paper) -> StoredText:
        stored = self.store.text(paper.arxiv_id, self.texts.extractor)
        if stored is None:
            stored = await self.texts.text(paper.arxiv_id)
            self.store.save_text(paper.arxiv_id, self.texts.extractor, stored)
        return stored

    def _gap(self, need: Need, reason: str) -> Gap:
        gap = Gap(need.paper.arxiv_id, need.task.name, reason)
        self.stats.gaps.append(gap)
        self.progress(f"{need.label}: missing: {reason}")
        return gap
