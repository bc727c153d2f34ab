"""Batch mode: a run's requests sent as one batch of the provider's Batch API, at its price.

`BatchExecutor` is an executor (see executor.py): the enricher plans, renders and accepts
as it does for direct requests. A request it is handed is answered by

- an earlier batch that has finished: its answer, checked like any; or a direct request
  when the batch did not answer it (failed, expired, cancelled);
- an earlier batch still running: `Deferred`, and the day records it as pending;
- else the batch this run sends once every need is waiting on it, or done.

Every retry (an answer cut off, unfaithful, unusable) is a direct request.

Nothing is sent twice: a batch's requests are written to the cache before it is sent
and its id once it is, and the batch carries a hash of its requests in its metadata; a run
killed in between finds it among the provider's batches before sending anything. Answers
collected go to the cache as they are accepted, so a killed run loses nothing either; a
batch is forgotten only when the run that collected it has settled every need.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from arxiv_digest.answers.cache import AnswerKey, Store
from arxiv_digest.answers.executor import Completion, Deferred, Executor, SentBefore
from arxiv_digest.answers.prompts import Prompt
from arxiv_digest.answers.tasks import AnswerError
from arxiv_digest.config import LlmSettings
from arxiv_digest.errors import ModelError
from arxiv_digest.models import Usage

SUBMISSION_KEY = "arxiv_digest_submission"
"""The batch metadata key that holds the hash of its requests."""
FINISHED = frozenset({"completed", "expired", "failed", "cancelled"})
"""The statuses after which a batch answers nothing more."""
MAX_CUSTOM_ID_CHARS = 64
"""The longest custom id some providers take (Together's limit; OpenAI's is larger)."""


@dataclass(frozen=True)
class BatchState:
    batch_id: str
    status: str
    """validating, in_progress, finalizing, completed, expired, failed, cancelling, cancelled."""
    output_file_id: str | None = None
    error_file_id: str | None = None
    errors: tuple[str, ...] = ()
    """Why the batch as a whole failed (its input did not validate)."""

    @property
    def finished(self) -> bool:
        return self.status in FINISHED


BatchResult = Completion | str
"""A request's completion, or why the batch did not answer it."""


class BatchApi(Protocol):
    """What batch mode needs of a provider's Batch API. Failures are the executor's errors:
    ModelError when no retry can help, TransientError, AnswerError."""

    @property
    def endpoint(self) -> str:
        """The path a batch's requests name (`/v1/chat/completions`, Zhipu's `/v4/…`)."""
        ...

    async def submit(self, requests: bytes, submission: str) -> str:
        """Send a JSONL file of requests as a batch carrying `submission`; its id."""
        ...

    async def find(self, submission: str) -> str | None:
        """The batch carrying `submission`, if the provider has one."""
        ...

    async def state(self, batch_id: str) -> BatchState: ...

    async def results(self, state: BatchState) -> dict[str, BatchResult]:
        """The results of a finished batch, by custom id."""
        ...


def custom_id(key: AnswerKey) -> str:
    """The id of a need's request in a batch: the need, and the prompt it was asked with,
    within `MAX_CUSTOM_ID_CHARS` (an arXiv id has at most 30 characters, which leaves at
    least 20 of the prompt's hash)."""
    return f"{key.arxiv_id}/{key.task}/{key.prompt_sha256}"[:MAX_CUSTOM_ID_CHARS]


@dataclass(frozen=True)
class _Queued:
    key: AnswerKey
    custom_id: str
    body: dict[str, Any]
    answer: asyncio.Future[BatchResult | Deferred]


@dataclass
class BatchExecutor:
    """Requests gathered into one batch per run; earlier batches collected first."""

    api: BatchApi
    direct: Executor
    """Where retries, and what a batch did not answer, are sent."""
    store: Store
    settings: LlmSettings
    body: Callable[[Prompt, int], dict[str, Any]]
    """A request's JSON body (the model, its messages and output limit)."""
    progress: Callable[[str], None]
    wait_seconds: float = 0.0
    """How long the run waits for unfinished batches, its own included."""
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    _ready: asyncio.Event = field(default_factory=asyncio.Event)
    _changed: asyncio.Event = field(default_factory=asyncio.Event)
    _queued: list[_Queued] = field(default_factory=list)
    _asked: set[AnswerKey] = field(default_factory=set)
    _results: dict[str, BatchResult] = field(default_factory=dict)
    _waiting: dict[tuple[str, str], str] = field(default_factory=dict)
    """The batch each need was sent in, by (arXiv id, task)."""
    _states: dict[str, BatchState | None] = field(default_factory=dict)
    """What the run found of each batch (None: its state could not be read)."""
    _deadline: float = 0.0

    @property
    def model_name(self) -> str:
        return self.direct.model_name

    @property
    def peak_in_flight(self) -> int:
        return self.direct.peak_in_flight

    async def gathered(self, running: Sequence[asyncio.Task[Any]], sent_before: SentBefore) -> None:
        """Beside the needs' tasks: collect the batches they were sent in before (by
        (arXiv id, task): the batch their records name, or None), then send one batch of the
        requests they make once every one of them is waiting on it or done. A finished
        batch is forgotten once every request it carried is settled."""
        self._deadline = self.clock() + self.wait_seconds
        try:
            await self._collect(sent_before)
        finally:
            self._ready.set()
        while True:
            live = [task for task in running if not task.done()]
            if self._queued and len(self._queued) >= len(live):
                await self._submit()
                break
            if not live:
                break
            self._changed.clear()
            changed = asyncio.ensure_future(self._changed.wait())
            await asyncio.wait([*live, changed], return_when=asyncio.FIRST_COMPLETED)
            changed.cancel()
        if running:
            await asyncio.wait(running)
        finished = [
            batch_id for batch_id, state in self._states.items() if state and state.finished
        ]
        self.store.settle(finished, set(sent_before))

    async def complete(
        self,
        prompt: Prompt,
        usage: Usage,
        max_output_tokens: int,
        priority: int = 0,
        key: AnswerKey | None = None,
    ) -> Completion:
        await self._ready.wait()
        if key is None or key in self._asked:  # a retry
            return await self.direct.complete(prompt, usage, max_output_tokens, priority, key)
        self._asked.add(key)
        result = self._result(key)
        if result is None:
            answer: asyncio.Future[BatchResult | Deferred] = (
                asyncio.get_running_loop().create_future()
            )
            self._queued.append(
                _Queued(key, custom_id(key), self.body(prompt, max_output_tokens), answer)
            )
            self._changed.set()
            result = await answer
        if isinstance(result, Deferred):
            raise result
        if isinstance(result, Completion):
            usage.model_requests += 1
            usage.batched_requests += 1
            usage.tokens_in += result.tokens_in
            usage.tokens_out += result.tokens_out
            usage.batched_tokens_in += result.tokens_in
            usage.batched_tokens_out += result.tokens_out
            return result
        self.progress(f"{key.arxiv_id} {key.task}: {result}; asking directly")
        return await self.direct.complete(prompt, usage, max_output_tokens, priority, key)

    def _result(self, key: AnswerKey) -> BatchResult | Deferred | None:
        """What an earlier batch says of the need (None: it was in none, so it joins this
        run's batch)."""
        found = self._results.pop(custom_id(key), None)
        if found is not None:
            return found
        batch_id = self._waiting.get((key.arxiv_id, key.task))
        if batch_id is None:
            return None
        state = self._states.get(batch_id)
        if state is None or not state.finished:
            return Deferred(batch_id)
        if state.status == "completed" and not state.errors:
            return None  # sent with another prompt than today's: asked anew
        reasons = "; ".join(state.errors)
        return f"batch {batch_id} {state.status}" + (f" ({reasons})" if reasons else "")

    async def _collect(self, sent_before: SentBefore) -> None:
        """The states of the batches the needs were sent in, waited for up to the deadline,
        and the results of those that have finished."""
        for submission in self.store.unsent_submissions():
            self._resolve(submission, await self._found(submission))
        stored = self.store.waiting_batches()
        self._waiting = {
            need: batch_id
            for need, recorded in sent_before.items()
            for batch_id in [stored.get(need, recorded)]
            if batch_id is not None
        }
        for batch_id in dict.fromkeys(self._waiting.values()):
            state = await self._polled(batch_id)
            self._states[batch_id] = state
            if state is not None and state.finished:
                self._results.update(await self._collected(state))

    async def _collected(self, state: BatchState) -> dict[str, BatchResult]:
        """The results of a finished batch; none when they cannot be read, and then the run
        holds its state as unknown (its needs stay pending)."""
        try:
            results = await self.api.results(state)
        except AnswerError as error:
            self.progress(f"batch {state.batch_id}: its results cannot be read ({error}); later")
            self._states[state.batch_id] = None
            return {}
        self._states[state.batch_id] = state
        self.progress(f"batch {state.batch_id} {state.status}: collected")
        return results

    async def _found(self, submission: str) -> str | None:
        """The batch a killed run may have sent `submission` as, if the provider has it."""
        try:
            return await self.api.find(submission)
        except AnswerError as error:
            raise ModelError(
                f"cannot tell whether an interrupted run sent its batch ({error}); nothing was"
                " sent twice; run again"
            ) from None

    def _resolve(self, submission: str, batch_id: str | None) -> None:
        if batch_id is None:
            self.store.forget_submission(submission)
        else:
            self.store.submitted(submission, batch_id)
            self.progress(f"batch {batch_id}: sent by an interrupted run; collecting it")

    async def _polled(self, batch_id: str) -> BatchState | None:
        """The batch's state, once it has finished or the run's wait is over."""
        told = False
        while True:
            try:
                state = await self.api.state(batch_id)
            except AnswerError as error:
                self.progress(f"batch {batch_id}: its state cannot be read ({error}); later")
                return None
            left_seconds = self._deadline - self.clock()
            if state.finished or left_seconds <= 0:
                return state
            if not told:
                self.progress(
                    f"batch {batch_id} {state.status}: waiting up to {left_seconds:.0f} s"
                )
                told = True
            await self.sleep(min(self.settings.batch_poll_seconds, left_seconds))

    async def _submit(self) -> None:
        """Send the queued requests as one batch, and answer each: pending in it, or (after
        a wait) its result; a batch that cannot be sent has them asked directly."""
        queued, self._queued = self._queued, []
        lines = b"".join(
            json.dumps(
                {
                    "custom_id": item.custom_id,
                    "method": "POST",
                    "url": self.api.endpoint,
                    "body": item.body,
                },
                ensure_ascii=False,
            ).encode()
            + b"\n"
            for item in queued
        )
        submission = hashlib.sha256(lines).hexdigest()
        self.store.begin_submission(
            submission, [(item.custom_id, item.key.arxiv_id, item.key.task) for item in queued]
        )
        try:
            batch_id = await self.api.submit(lines, submission)
        except AnswerError as error:
            # A failure after the batch was made (a timeout) must not send it twice.
            found = await self._found(submission)
            if found is None:
                self.store.forget_submission(submission)
                for item in queued:
                    item.answer.set_result(f"the batch could not be sent ({error})")
                return
            batch_id = found
        self.store.submitted(submission, batch_id)
        self.progress(f"batch {batch_id}: {len(queued)} requests sent")
        results: dict[str, BatchResult] = {}
        state = await self._polled(batch_id) if self._deadline > self.clock() else None
        if state is not None and state.finished:
            results = await self._collected(state)
        collected = self._states.get(batch_id)
        for item in queued:
            result = results.get(item.custom_id)
            if result is None and collected is not None:
                result = f"batch {batch_id} {collected.status} without its answer"
            item.answer.set_result(Deferred(batch_id) if result is None else result)
