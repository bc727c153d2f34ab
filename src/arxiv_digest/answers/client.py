"""The model behind any OpenAI-compatible endpoint, through the official SDK.

It meets `execute.ChatModel`: a completion, or one of the errors that interface
names. Retries and pacing are the executor's: it adapts its concurrency to
429s, which the SDK's own retries would hide, so the SDK is told not to retry.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import threading
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit

from arxiv_digest.answers.batch import SUBMISSION_KEY, BatchResult, BatchState
from arxiv_digest.answers.executor import Completion, RateLimited, TransientError
from arxiv_digest.answers.prompts import Prompt
from arxiv_digest.answers.tasks import AnswerError, Filtered
from arxiv_digest.config import LlmSettings
from arxiv_digest.errors import ModelError
from arxiv_digest.netfault import connection_cause

if TYPE_CHECKING:
    import openai

_TRANSIENT_STATUS = {408, 409}
# What providers' content filters say, in the code, type or detail of their error body.
_FILTER_MARKS = {"data_inspection_failed", "1301", "content_filter", "content exists risk"}
# DashScope's answer to a plain request for a model that only streams.
_STREAM_ONLY = "only support stream mode"
_NEVER_ANSWERED_LIMIT = 3
"""Connection failures, before any answer, that show the endpoint cannot be reached."""


class OpenAIChatModel:
    """Chat completions from any OpenAI-compatible endpoint, through the official SDK."""

    def __init__(self, settings: LlmSettings, api_key: str) -> None:
        self.name = settings.model
        self._api_key = api_key
        self._settings = settings
        # Made at the first request: the SDK takes half a second to import, which a build
        # whose answers are all recorded or cached need not pay.
        self._client: openai.AsyncOpenAI | None = None
        self._answered = False
        self._unreachable = 0

    def warm_up(self) -> None:
        """Import the SDK on a thread of its own, for a build that will make requests: the
        import then overlaps the arXiv fetch instead of delaying the first request."""
        threading.Thread(target=_import_sdk, name="import-openai", daemon=True).start()

    def connected(self) -> openai.AsyncOpenAI:
        """The SDK's client, made at the first request (the Batch API's too)."""
        import openai

        if self._client is None:
            # base_url None lets the SDK read OPENAI_BASE_URL, and else use OpenAI's.
            self._client = openai.AsyncOpenAI(
                api_key=self._api_key,
                base_url=self._settings.base_url,
                timeout=self._settings.timeout_seconds,
                max_retries=0,
            )
        return self._client

    async def complete(self, prompt: Prompt, max_output_tokens: int) -> Completion:
        import openai

        try:
            completion = await self._request(prompt, max_output_tokens)
        except (openai.AuthenticationError, openai.PermissionDeniedError) as error:
            raise ModelError(
                f"the model endpoint refused the API key (HTTP {error.status_code});"
                " check OPENAI_API_KEY and llm.base_url"
            ) from None
        except openai.NotFoundError:
            raise ModelError(
                f"the model endpoint does not know model {self.name!r} or its URL is wrong;"
                " check llm.model and llm.base_url"
            ) from None
        except openai.RateLimitError as error:
            raise RateLimited(_retry_after_seconds(error.response.headers)) from None
        except openai.APIStatusError as error:
            if error.status_code in _TRANSIENT_STATUS or error.status_code >= 500:
                raise TransientError(f"HTTP {error.status_code}") from None
            # The server's message becomes a gap reason in the day's record: a committed
            # file, so a key the server echoes back is removed here, at the source.
            message = self.server_message(error.body)
            if _is_filtered(error.body):
                raise Filtered(f"the provider's content filter refused it{message}") from None
            if _STREAM_ONLY in message.lower() and not self._settings.stream:
                raise ModelError(
                    f"model {self.name!r} answers only when streamed; set llm.stream: true"
                ) from None
            raise AnswerError(f"HTTP {error.status_code}{message}") from None
        except openai.APITimeoutError:
            raise TransientError("timed out") from None
        except openai.APIConnectionError as error:
            cause = connection_cause(error)
            if cause is not None and not self._answered:
                # An endpoint that has never answered is a wrong address or no network, not
                # a passing fault: a few failures stop the run before it writes anything.
                self._unreachable += 1
                if self._unreachable >= _NEVER_ANSWERED_LIMIT:
                    raise ModelError(
                        f"the model endpoint {self.endpoint} cannot be reached: {cause};"
                        " check llm.base_url (or OPENAI_BASE_URL), the network, or a proxy"
                    ) from None
            raise TransientError(f"connection failed: {cause or 'no answer'}") from None
        except openai.APIError as error:
            raise AnswerError(f"malformed response ({type(error).__name__})") from None
        self._answered = True
        return completion

    async def _request(self, prompt: Prompt, max_output_tokens: int) -> Completion:
        """One request, streamed or not. Only the answer's content is read: a reasoning
        field beside it (`reasoning_content`, `reasoning`) is never part of the answer."""
        client = self.connected()
        body = request_body(self._settings, prompt, max_output_tokens)
        if not self._settings.stream:
            return completion_of(await client.chat.completions.create(**body))
        stream = await client.chat.completions.create(
            **body, stream=True, stream_options={"include_usage": True}
        )
        pieces: list[str] = []
        finish_reason = ""
        tokens_in = tokens_out = 0
        async with stream:
            async for chunk in stream:
                if chunk.usage is not None:  # the last chunk, without choices
                    tokens_in, tokens_out = chunk.usage.prompt_tokens, chunk.usage.completion_tokens
                for streamed in chunk.choices[:1]:
                    pieces.append(streamed.delta.content or "")
                    finish_reason = streamed.finish_reason or finish_reason
        if not finish_reason:
            raise TransientError("the stream ended before the answer did")
        return Completion("".join(pieces), tokens_in, tokens_out, finish_reason)

    def server_message(self, body: object) -> str:
        """The message of an error body, without the key (a server may echo it back, and
        the message may end up in a committed record)."""
        return _server_message(body).replace(self._api_key, "[redacted]")

    @property
    def endpoint(self) -> str:
        """The base URL requests go to, as the SDK chooses it."""
        return (
            self._settings.base_url
            or os.environ.get("OPENAI_BASE_URL")
            or "https://api.openai.com/v1"
        )

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()


class OpenAIBatches:
    """The provider's Batch API (`/files` and `/batches`, as OpenAI documents them), through
    the SDK and the model's client. It meets `batch.BatchApi`."""

    def __init__(self, model: OpenAIChatModel) -> None:
        self._model = model

    @property
    def endpoint(self) -> str:
        """`/v1/chat/completions`, or the version the base URL ends with (Zhipu's
        `…/api/paas/v4` takes `/v4/chat/completions`)."""
        version = re.search(r"/(v\d+)/?$", urlsplit(self._model.endpoint).path)
        return f"/{version.group(1) if version else 'v1'}/chat/completions"

    async def submit(self, requests: bytes, submission: str) -> str:
        """Upload a JSONL file of requests and start a batch of it; its id. The batch
        carries `submission` in its metadata, so that `find` can tell it was sent."""
        client = self._model.connected()
        async with self._errors("uploading the batch's requests"):
            upload = await client.files.create(
                file=("requests.jsonl", requests, "application/jsonl"), purpose="batch"
            )
        async with self._errors("starting the batch"):
            batch = await client.batches.create(
                input_file_id=upload.id,
                endpoint=cast(Any, self.endpoint),  # the SDK's type names OpenAI's paths only
                completion_window="24h",
                metadata={SUBMISSION_KEY: submission},
            )
        return batch.id

    async def find(self, submission: str) -> str | None:
        """The batch that carries `submission`, among the provider's recent ones."""
        client = self._model.connected()
        async with self._errors("listing batches"):
            # The newest page only: a run looks for the batch the run before it sent.
            recent = await client.batches.list(limit=100)
        for batch in recent.data:
            if (batch.metadata or {}).get(SUBMISSION_KEY) == submission:
                return batch.id
        return None

    async def state(self, batch_id: str) -> BatchState:
        import openai

        client = self._model.connected()
        try:
            async with self._errors(f"reading batch {batch_id}"):
                batch = await client.batches.retrieve(batch_id)
        except AnswerError as error:
            if isinstance(error.__cause__, openai.NotFoundError):
                # Gone, or another provider's: what it carried is asked for again.
                return BatchState(batch_id, "failed", errors=("the provider does not know it",))
            raise
        errors = (
            tuple(f"{error.code}: {error.message}" for error in (batch.errors.data or []))
            if batch.errors
            else ()
        )
        return BatchState(batch_id, batch.status, batch.output_file_id, batch.error_file_id, errors)

    async def results(self, state: BatchState) -> dict[str, BatchResult]:
        """The results in a finished batch's output and error files, by custom id."""
        client = self._model.connected()
        results: dict[str, BatchResult] = {}
        for file_id in (state.error_file_id, state.output_file_id):  # an answer wins
            if file_id:
                async with self._errors(f"downloading file {file_id} of batch {state.batch_id}"):
                    content = await client.files.content(file_id)
                results.update(batch_results(content.content))
        return results

    @contextlib.asynccontextmanager
    async def _errors(self, doing: str) -> AsyncIterator[None]:
        """The SDK's errors while `doing`, as the executor's: ModelError when no retry can
        help, TransientError for what a later try may not meet, AnswerError otherwise."""
        import openai

        try:
            yield
        except (openai.AuthenticationError, openai.PermissionDeniedError) as error:
            raise ModelError(
                f"the model endpoint refused the API key (HTTP {error.status_code}) while"
                f" {doing}; check OPENAI_API_KEY and llm.base_url"
            ) from None
        except openai.NotFoundError as error:
            if error.request.method != "POST":  # a batch or file that is gone, not the API
                raise AnswerError(f"HTTP 404 while {doing}") from error
            raise ModelError(
                f"the model endpoint {self._model.endpoint} offers no Batch API (HTTP 404 while"
                f" {doing}); set llm.mode: direct"
            ) from None
        except openai.APIStatusError as error:
            message = self._model.server_message(error.body)
            if (
                error.status_code == 429
                or error.status_code in _TRANSIENT_STATUS
                or (error.status_code >= 500)
            ):
                raise TransientError(f"HTTP {error.status_code} while {doing}") from None
            raise AnswerError(f"HTTP {error.status_code} while {doing}{message}") from None
        except openai.APITimeoutError:
            raise TransientError(f"timed out while {doing}") from None
        except openai.APIConnectionError as error:
            cause = connection_cause(error) or "no answer"
            raise TransientError(f"connection failed while {doing}: {cause}") from None
        except openai.APIError as error:
            raise AnswerError(
                f"malformed response while {doing} ({type(error).__name__})"
            ) from None


def batch_results(output: bytes) -> dict[str, BatchResult]:
    """Each request's completion in a batch's output or error file, by its custom id; or,
    for a request that failed, why."""
    from openai.types.chat import ChatCompletion

    results: dict[str, BatchResult] = {}
    for line in output.splitlines():
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
            custom_id = str(entry["custom_id"])
        except (ValueError, KeyError, TypeError):
            continue  # a line that names no request answers none
        response = entry.get("response") or {}
        error = entry.get("error")
        status = response.get("status_code")
        if error or status != 200:
            detail = error or response.get("body")
            results[custom_id] = _batch_failure(status, detail)
            continue
        try:
            results[custom_id] = completion_of(ChatCompletion.model_validate(response["body"]))
        except (ValueError, KeyError, AnswerError) as failure:
            results[custom_id] = f"malformed batch answer ({type(failure).__name__})"
    return results


def _batch_failure(status: object, detail: object) -> str:
    """Why a batch did not answer a request, from its line of the error file:
    `the batch did not answer it (batch_expired: This request could not …)`, or
    `the batch's request failed (HTTP 400: …)`."""
    if isinstance(detail, dict) and "error" in detail:
        detail = detail["error"]
    parts = [f"HTTP {status}"] if status else []
    if isinstance(detail, dict):
        parts += [str(detail[name]) for name in ("code", "message") if detail.get(name)]
    why = ": ".join(" ".join(part.split()).rstrip(".")[:200] for part in parts)
    return (
        f"the batch's request failed ({why})" if status else f"the batch did not answer it ({why})"
    )


def request_body(settings: LlmSettings, prompt: Prompt, max_output_tokens: int) -> dict[str, Any]:
    """A chat-completions request as its JSON body holds it: what a direct request sends and
    what a batch's input file carries, one line a request."""
    body: dict[str, Any] = {
        "model": settings.model,
        "messages": [
            {"role": "system", "content": prompt["system"]},
            {"role": "user", "content": prompt["user"]},
        ],
        settings.output_limit_parameter: max_output_tokens,
    }
    if settings.temperature is not None:
        body["temperature"] = settings.temperature
    return body


def completion_of(response: object) -> Completion:
    """The completion of a (non-streamed) chat-completions response."""
    from openai.types.chat import ChatCompletion

    # A proxy's HTML error page with status 200 comes back as a plain string.
    if not isinstance(response, ChatCompletion):
        raise AnswerError("malformed response (not a chat completion)")
    if not response.choices:
        raise AnswerError("the response held no choices")
    usage = response.usage
    choice = response.choices[0]
    return Completion(
        text=choice.message.content or "",
        tokens_in=usage.prompt_tokens if usage else 0,
        tokens_out=usage.completion_tokens if usage else 0,
        finish_reason=choice.finish_reason or "stop",
    )


def _import_sdk() -> None:
    import openai.types.chat  # noqa: F401  (the import is the point)


def _is_filtered(body: object) -> bool:
    """Whether an error body is a provider's content filter: DashScope's
    `data_inspection_failed`, Zhipu's code 1301, Moonshot's `content_filter` type, DeepSeek's
    `Content Exists Risk`."""
    detail = body.get("error", body) if isinstance(body, dict) else None
    if not isinstance(detail, dict):
        return False
    marks = {str(detail.get(name, "")).lower() for name in ("code", "type", "detail")}
    return bool(marks & _FILTER_MARKS)


def _server_message(body: object) -> str:
    """The error message an OpenAI-compatible server put in its body, shortened, if any."""
    detail = body.get("error", body) if isinstance(body, dict) else None
    message = detail.get("message") if isinstance(detail, dict) else None
    return f": {' '.join(str(message).split())[:200]}" if message else ""


def _retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """The server's Retry-After (seconds) or retry-after-ms, when it sent a number."""
    for name, divisor in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        try:
            return max(0.0, float(headers.get(name, ""))) / divisor
        except ValueError:
            continue
    return None
