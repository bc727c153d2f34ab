"""The model: a small interface, its OpenAI-compatible implementation, and answer checks.

Transport faults (429 with Retry-After, 5xx, timeouts, dropped connections) are
retried by the `openai` SDK itself, `llm.max_retries` times with backoff. What
comes back is then normalized and checked here; an answer that fails the check
is asked for again, up to `llm.max_attempts` times in all (see enrich).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

import openai

from arxiv_digest.config import LlmSettings
from arxiv_digest.errors import ModelError
from arxiv_digest.render import Prompt

TRANSLATION = "translation"
ANALYSIS = "analysis"

_WHOLE_FENCE = re.compile(r"^(`{3,}|~{3,})[^\n`]*\n(?P<body>.*?)\n?\1[ \t]*$", re.DOTALL)
_PART_HEADING = r"^[ \t]*(?:#+[ \t]*)?(?:\*\*)?{number}[)）]"


@dataclass(frozen=True)
class Completion:
    text: str
    tokens_in: int
    tokens_out: int


class AnswerError(Exception):
    """One request for one task did not give a usable answer; the task may be tried again."""


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
            max_retries=settings.max_retries,
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
        except openai.APIStatusError as error:
            raise AnswerError(f"HTTP {error.status_code}") from None
        except openai.APITimeoutError:
            raise AnswerError("timed out") from None
        except openai.APIConnectionError:
            raise AnswerError("connection failed") from None
        except openai.APIError as error:
            raise AnswerError(f"malformed response ({type(error).__name__})") from None
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


def normalize(answer: str) -> str:
    """Strip outer whitespace, and unwrap a code fence that wraps the whole answer."""
    text = answer.strip()
    fenced = _WHOLE_FENCE.match(text)
    if fenced is not None:
        text = fenced.group("body").strip()
    return text


def check(task: str, answer: str) -> str:
    """The normalized answer if it is usable for `task`; else AnswerError says why."""
    text = normalize(answer)
    if not text:
        raise AnswerError("empty answer")
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
