"""The model behind any OpenAI-compatible endpoint, through the official SDK.

It meets `execute.ChatModel`: a completion, or one of the errors that interface
names. Retries and pacing are the executor's: it adapts its concurrency to
429s, which the SDK's own retries would hide, so the SDK is told not to retry.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING

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
        self._temperature = settings.temperature
        # Made at the first request: the SDK takes half a second to import, which a build
        # whose answers are all recorded or cached need not pay.
        self._client: openai.AsyncOpenAI | None = None
        self._answered = False
        self._unreachable = 0

    def warm_up(self) -> None:
        """Import the SDK on a thread of its own, for a build that will make requests: the
        import then overlaps the arXiv fetch instead of delaying the first request."""
        threading.Thread(target=_import_sdk, name="import-openai", daemon=True).start()

    def _connected(self) -> openai.AsyncOpenAI:
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
            message = _server_message(error.body).replace(self._api_key, "[redacted]")
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
        import openai
        from openai.types.chat import ChatCompletion

        client = self._connected()
        messages: list[openai.types.chat.ChatCompletionMessageParam] = [
            {"role": "system", "content": prompt["system"]},
            {"role": "user", "content": prompt["user"]},
        ]
        by_name = self._settings.output_limit_parameter
        max_tokens = max_output_tokens if by_name == "max_tokens" else openai.omit
        max_completion_tokens = max_output_tokens if by_name != "max_tokens" else openai.omit
        temperature = openai.omit if self._temperature is None else self._temperature
        if not self._settings.stream:
            response = await client.chat.completions.create(
                model=self.name,
                messages=messages,
                temperature=temperature,
                max_tokens=max_tokens,
                max_completion_tokens=max_completion_tokens,
            )
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
        stream = await client.chat.completions.create(
            model=self.name,
            messages=messages,
            temperature=temperature,
            max_tokens=max_tokens,
            max_completion_tokens=max_completion_tokens,
            stream=True,
            stream_options={"include_usage": True},
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
