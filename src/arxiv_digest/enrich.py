"""Enrich stage: a translation and an analysis for every shown paper.

All model requests run concurrently up to `llm.concurrency`; the PDF downloads
and text extraction of the analyses overlap with the translations. Every
accepted answer goes to the store at once, so a rerun asks only for what is missing.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import jinja2

from arxiv_digest import llm, pdfsource, pdftext
from arxiv_digest.config import Config
from arxiv_digest.errors import DigestError, PdfError
from arxiv_digest.llm import AnswerError, ChatModel, RateLimited, TransientError
from arxiv_digest.models import ANALYSIS, TRANSLATION, Enrichment, Gap, Paper, Usage
from arxiv_digest.pacing import AdaptiveLimit
from arxiv_digest.pdfsource import PdfSource
from arxiv_digest.render import Prompt, prompt_sha256, render_prompt
from arxiv_digest.store import AnswerKey, Store, StoredText

Progress = Callable[[str], None]
# A 429 says "later", not "failed": retried far more often than other faults, and never
# waiting longer than this between tries.
_MAX_THROTTLES = 50
_MAX_WAIT_SECONDS = 60.0


@dataclass
class EnrichStats:
    by_paper: dict[str, Usage] = field(default_factory=dict)
    """Usage by arXiv id."""
    pdf_downloads: int = 0
    gaps: list[Gap] = field(default_factory=list)

    def usage(self, arxiv_ids: Iterable[str] | None = None) -> Usage:
        """The usage summed over `arxiv_ids`, or over every paper."""
        total = Usage()
        for arxiv_id, usage in self.by_paper.items():
            if arxiv_ids is None or arxiv_id in arxiv_ids:
                total.add(usage)
        return total


@dataclass
class Enricher:
    model: ChatModel
    store: Store
    pdfs: PdfSource
    templates: jinja2.Environment
    config: Config
    progress: Progress
    stats: EnrichStats = field(default_factory=EnrichStats)

    def __post_init__(self) -> None:
        self._limit = AdaptiveLimit(self.config.llm.concurrency)
        self._download_slots = asyncio.Semaphore(self.config.pdf.concurrency)
        self._extraction_slots = asyncio.Semaphore(os.cpu_count() or 1)

    @property
    def peak_concurrent_requests(self) -> int:
        return self._limit.peak_in_flight

    async def enrich(self, papers: Sequence[Paper]) -> dict[str, Enrichment]:
        """Enrichments by arXiv id. A ModelError (bad key, unknown model) stops everything."""
        try:
            async with asyncio.TaskGroup() as group:
                translations = [group.create_task(self._translation(paper)) for paper in papers]
                analyses = [group.create_task(self._analysis(paper)) for paper in papers]
        except* DigestError as failures:
            # The first fatal error is the one to report; the others are its echoes.
            raise failures.exceptions[0] from None
        return {
            paper.arxiv_id: Enrichment(translation=translation.result(), analysis=analysis.result())
            for paper, translation, analysis in zip(papers, translations, analyses, strict=True)
        }

    async def _translation(self, paper: Paper) -> str | None:
        prompt = render_prompt(self.templates, TRANSLATION, paper)
        return await self._answer(paper, TRANSLATION, prompt)

    async def _analysis(self, paper: Paper) -> str | None:
        try:
            stored = await self._paper_text(paper)
        except PdfError as error:
            self._gap(paper, ANALYSIS, str(error).removeprefix(f"{paper.arxiv_id}: "))
            return None
        text = pdftext.model_input(stored.text, self.config.llm.max_input_chars)
        if not text:
            self._gap(paper, ANALYSIS, "the PDF has no extractable text")
            return None
        prompt = render_prompt(self.templates, ANALYSIS, paper, text)
        return await self._answer(paper, ANALYSIS, prompt)

    async def _paper_text(self, paper: Paper) -> StoredText:
        stored = self.store.text(paper.arxiv_id, pdftext.EXTRACTOR)
        if stored is not None:
            return stored
        async with self._download_slots:
            pdf_bytes = await self.pdfs.fetch(paper.arxiv_id)
            self.stats.pdf_downloads += 1
        async with self._extraction_slots:
            stored = await pdfsource.extract(paper.arxiv_id, pdf_bytes, self.config.pdf)
        self.store.save_text(paper.arxiv_id, pdftext.EXTRACTOR, stored)
        return stored

    async def _answer(self, paper: Paper, task: str, prompt: Prompt) -> str | None:
        key = AnswerKey(
            paper.arxiv_id, task, self.model.name, prompt_sha256(prompt, self.model.name)
        )
        usage = self.stats.by_paper.setdefault(paper.arxiv_id, Usage())
        cached = self.store.answer(key)
        if cached is not None:
            usage.cache_hits += 1
            self.progress(f"{paper.arxiv_id} {task}: cached")
            return cached
        reason = ""
        for attempt in range(1, self.config.llm.max_attempts + 1):
            started = time.monotonic()
            try:
                completion = await self._request(prompt, usage)
                answer = llm.check(
                    task, completion.text, require_chinese=self.config.llm.require_chinese
                )
            except AnswerError as error:
                reason = str(error)
                self.progress(f"{paper.arxiv_id} {task}: attempt {attempt} failed: {reason}")
                continue
            self.store.save_answer(key, answer, completion.tokens_in, completion.tokens_out)
            elapsed_seconds = time.monotonic() - started
            self.progress(f"{paper.arxiv_id} {task}: done in {elapsed_seconds:.1f} s")
            return answer
        self._gap(paper, task, f"{reason} after {self.config.llm.max_attempts} attempts")
        return None

    async def _request(self, prompt: Prompt, usage: Usage) -> llm.Completion:
        """One answer, retrying transient faults with backoff and 429s after Retry-After."""
        failures = 0
        throttles = 0
        while True:
            async with self._limit.slot():
                usage.model_requests += 1
                try:
                    completion = await self.model.complete(prompt)
                except RateLimited as error:
                    self._limit.throttled()
                    throttles += 1
                    if throttles > _MAX_THROTTLES:
                        raise
                    wait_seconds = min(
                        _MAX_WAIT_SECONDS,
                        error.retry_after_seconds
                        if error.retry_after_seconds is not None
                        else 0.5 * 2**throttles,
                    )
                except TransientError:
                    failures += 1
                    if failures > self.config.llm.max_retries:
                        raise
                    wait_seconds = min(_MAX_WAIT_SECONDS, 0.5 * 2**failures)
                else:
                    self._limit.succeeded()
                    break
            await asyncio.sleep(wait_seconds)
        usage.tokens_in += completion.tokens_in
        usage.tokens_out += completion.tokens_out
        return completion

    def _gap(self, paper: Paper, task: str, reason: str) -> None:
        self.stats.gaps.append(Gap(paper.arxiv_id, task, reason))
        self.progress(f"{paper.arxiv_id} {task}: missing: {reason}")
