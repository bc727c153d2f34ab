"""Execute: how model requests are sent. The model's interface, and the paced executor.

Enrich plans which answers are missing and accepts or rejects what comes back;
an executor only turns a prompt into a completion. `PacedExecutor` sends each
request as soon as a slot is free, adapting to 429s and retrying transient
faults. `batch.BatchExecutor` gathers the requests it is handed into one batch of
the provider's Batch API and answers them on a later run, without plan or accept changing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from arxiv_digest.answers.pacing import AdaptiveLimit
from arxiv_digest.answers.prompts import Prompt
from arxiv_digest.answers.tasks import AnswerError
from arxiv_digest.config import LlmSettings
from arxiv_digest.models import Usage

if TYPE_CHECKING:
    from arxiv_digest.answers.cache import AnswerKey

# A 429 says "later", not "failed": retried far more often than other faults, and never
# waiting longer than this between tries.
_MAX_THROTTLES = 50
_MAX_WAIT_SECONDS = 60.0


@dataclass(frozen=True)
class Completion:
    text: str
    tokens_in: int
    tokens_out: int
    """Every output token billed, a thinking model's reasoning included."""
    finish_reason: str = "stop"
    """Why the answer ended: `stop`, or `length` (cut off) or `content_filter` (filtered)."""


class TransientError(AnswerError):
    """The request failed in a way that a later retry may not (5xx, timeout, connection)."""


class RateLimited(TransientError):
    """HTTP 429: too many requests in flight or per minute."""

    def __init__(self, retry_after_seconds: float | None) -> None:
        self.retry_after_seconds = retry_after_seconds
        super().__init__("HTTP 429")


SentBefore = Mapping[tuple[str, str], str | None]
"""The needs of a run by (arXiv id, task), each with the batch its record says it waits in."""


class Deferred(Exception):
    """The request waits in a provider's batch; a later run collects its answer."""

    def __init__(self, batch_id: str) -> None:
        self.batch_id = batch_id
        super().__init__(f"waiting in batch {batch_id}")


class ChatModel(Protocol):
    """What an executor needs of a model. `complete` returns a completion or raises:
    ModelError when no retry can help (bad key, unknown model), RateLimited on 429,
    TransientError on 5xx, timeouts and dropped connections, AnswerError otherwise."""

    name: str

    async def complete(self, prompt: Prompt, max_output_tokens: int) -> Completion: ...


class Executor(Protocol):
    @property
    def model_name(self) -> str: ...

    @property
    def peak_in_flight(self) -> int: ...

    async def complete(
        self,
        prompt: Prompt,
        usage: Usage,
        max_output_tokens: int,
        priority: int = 0,
        key: AnswerKey | None = None,
    ) -> Completion:
        """One completion for `prompt`, of at most `max_output_tokens`; every request sent
        for it is counted in `usage`. Of the requests waiting to be sent, those of higher
        `priority` go first. `key` names the need it answers (asked again: a retry); an
        executor that answers later raises Deferred."""
        ...

    async def gathered(self, running: Sequence[asyncio.Task[Any]], sent_before: SentBefore) -> None:
        """Runs beside the tasks that ask for the needs of `sent_before`: what an executor
        that gathers requests does with them."""
        ...


class PacedExecutor:
    """Requests sent at once, at most `llm.concurrency` in flight and fewer while the
    provider answers 429; transient faults retried with backoff."""

    def __init__(self, model: ChatModel, settings: LlmSettings) -> None:
        self.model_name = model.name
        self._model = model
        self._max_retries = settings.max_retries
        self._limit = AdaptiveLimit(settings.concurrency)

    @property
    def peak_in_flight(self) -> int:
        return self._limit.peak_in_flight

    async def gathered(self, running: Sequence[asyncio.Task[Any]], sent_before: SentBefore) -> None:
        """Nothing: each request is sent as it comes."""

    async def complete(
        self,
        prompt: Prompt,
        usage: Usage,
        max_output_tokens: int,
        priority: int = 0,
        key: AnswerKey | None = None,
    ) -> Completion:
        failures = 0
        throttles = 0
        while True:
            async with self._limit.slot(priority):
                usage.model_requests += 1
                try:
                    completion = await self._model.complete(prompt, max_output_tokens)
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
                    if failures > self._max_retries:
                        raise
                    wait_seconds = min(_MAX_WAIT_SECONDS, 0.5 * 2**failures)
                else:
                    self._limit.succeeded()
                    break
            await asyncio.sleep(wait_seconds)
        usage.tokens_in += completion.tokens_in
        usage.tokens_out += completion.tokens_out
        return completion
