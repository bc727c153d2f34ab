"""The model: a small interface, its OpenAI-compatible implementation, and answer checks.

A request either returns a `Completion` or raises: `ModelError` when no retry
can help (bad key, unknown model), `RateLimited` on HTTP 429, `TransientError`
on 5xx, timeouts and dropped connections, `AnswerError` when the answer is
unusable. Retries and pacing are enrich's: it adapts its concurrency to 429s,
which the SDK's own retries would hide, so the SDK is told not to retry.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

import openai
from openai.types.chat import ChatCompletion

from arxiv_digest.config import LlmSettings
from arxiv_digest.errors import ModelError
from arxiv_digest.models import ANALYSIS
from arxiv_digest.render import Prompt

_TRANSIENT_STATUS = {408, 409}
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN_LETTER = re.compile(r"[A-Za-z]")
# A Chinese answer keeps model names and acronyms in English; an English one has no Chinese.
_MIN_CHINESE_SHARE = 0.2
_WHOLE_FENCE = re.compile(r"^(`{3,}|~{3,})[^\n`]*\n(?P<body>.*?)\n?\1[ \t]*$", re.DOTALL)
_PART_HEADING = r"^[ \t]*(?:#+[ \t]*)?(?:\*\*)?{number}[)）]"


@dataclass(frozen=True)
class Completion:
    text: str
    tokens_in: int
    tokens_out: int


class AnswerError(Exception):
    """One request for one task did not give a usable answer; the task may be tried again."""


class TransientError(AnswerError):
    """The request failed in a way that a later retry may not (5xx, timeout, connection)."""


class RateLimited(TransientError):
    """HTTP 429: too many requests in flight or per minute."""

    def __init__(self, retry_after_seconds: float | None) -> None:
        self.retry_after_seconds = retry_after_seconds
        super().__init__("HTTP 429")


class ChatModel(Protocol):
    """What enrich needs of a model."""

    name: str

    async def complete(self, prompt: Prompt) -> Completion: ...


class OpenAIChatModel:
    """Chat completions from any OpenAI-compatible endpoint, through the official SDK."""

    def __init__(self, settings: LlmSettings, api_key: str) -> None:
        self.name = settings.model
        self._temperature = settings.temperature
        # base_url None lets the SDK read OPENAI_BASE_URL, and else use OpenAI's.
        self._client = openai.AsyncOpenAI(
            api_key=api_key,
            base_url=settings.base_url,
            timeout=settings.timeout_seconds,
            max_retries=0,
        )

    async def complete(self, prompt: Prompt) -> Completion:
        messages: list[openai.types.chat.ChatCompletionMessageParam] = [
            {"role": "system", "content": prompt["system"]},
            {"role": "user", "content": prompt["user"]},
        ]
        try:
            response = await self._client.chat.completions.create(
                model=self.name,
                messages=messages,
                temperature=openai.omit if self._temperature is None else self._temperature,
            )
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
            raise AnswerError(f"HTTP {error.status_code}{_server_message(error.body)}") from None
        except openai.APITimeoutError:
            raise TransientError("timed out") from None
        except openai.APIConnectionError:
            raise TransientError("connection failed") from None
        except openai.APIError as error:
            raise AnswerError(f"malformed response ({type(error).__name__})") from None
        # A proxy's HTML error page with status 200 comes back from the SDK as a plain string.
        if not isinstance(response, ChatCompletion):
            raise AnswerError("malformed response (not a chat completion)")
        if not response.choices:
            raise AnswerError("the response held no choices")
        usage = response.usage
        return Completion(
            text=response.choices[0].message.content or "",
            tokens_in=usage.prompt_tokens if usage else 0,
            tokens_out=usage.completion_tokens if usage else 0,
        )

    async def close(self) -> None:
        await self._client.close()


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


def chinese_share(text: str) -> float:
    """The share of Chinese characters among the letters of `text` (0 when it has none)."""
    chinese = len(_HAN.findall(text))
    letters = chinese + len(_LATIN_LETTER.findall(text))
    return chinese / letters if letters else 0.0


def normalize(answer: str) -> str:
    """Strip outer whitespace, and unwrap a code fence that wraps the whole answer."""
    text = answer.strip()
    fenced = _WHOLE_FENCE.match(text)
    if fenced is not None:
        text = fenced.group("body").strip()
    return text


def check(task: str, answer: str, *, require_chinese: bool = True) -> str:
    """The normalized answer if it is usable for `task`; else AnswerError says why."""
    text = normalize(answer)
    if not text:
        raise AnswerError("empty answer")
    if require_chinese and chinese_share(text) < _MIN_CHINESE_SHARE:
        raise AnswerError("the answer is not in Chinese")
    if task == ANALYSIS:
        position = 0
        for number in (1, 2, 3):
            found = re.compile(_PART_HEADING.format(number=number), re.MULTILINE).search(
                text, position
            )
            if found is None:
                raise AnswerError(f"the analysis lacks part {number})")
            position = found.end()
    return text
