"""Patience with arXiv: how long a run waits out rate limits and outages, in all.

In 2026 arXiv's API answers 429 often, even to single requests far apart, and names no
time to wait; its OAI-PMH interface asks for waits with 503 and `Retry-After`. Each arXiv
service a run talks to gets one budget of waiting (`arxiv.wait_budget_seconds`): when the
server names a time, that time; otherwise exponential backoff with jitter, so that the
nightly jobs of many sites do not retry in step. Every wait is one progress line.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass

from arxiv_digest.errors import FetchError

LONGEST_WAIT_SECONDS = 120.0
"""No single backoff wait is longer: a storm that ends is noticed within two minutes."""


class WaitBudgetSpent(FetchError):
    """A service kept failing until the run's budget of waiting for it was used up."""


@dataclass
class Patience:
    """The waiting budget of one service for one run."""

    service: str
    """How progress lines name the service, e.g. "arXiv API"."""
    budget_seconds: float
    first_wait_seconds: float
    say: Callable[[str], None]
    sleep: Callable[[float], None] = time.sleep
    jitter: Callable[[], float] = random.random
    """A number in [0, 1): where in its upper half a backoff wait falls."""
    used_seconds: float = 0.0
    waits: int = 0

    def wait(self, problem: str, *, retry_after_seconds: float | None = None) -> None:
        """Wait before trying again after `problem`; WaitBudgetSpent when the wait would
        take the service past its budget (nothing is waited then)."""
        if retry_after_seconds is not None:
            seconds = max(retry_after_seconds, 0.0)
        else:
            ceiling = min(LONGEST_WAIT_SECONDS, self.first_wait_seconds * 2**self.waits)
            # "Equal jitter": never less than half the backoff, never in step with other sites.
            seconds = ceiling / 2 + self.jitter() * ceiling / 2
        if self.used_seconds + seconds > self.budget_seconds:
            raise WaitBudgetSpent(
                f"{problem}, and waiting {seconds:.0f} s more would pass the"
                f" {_minutes(self.budget_seconds)}-minute budget (arxiv.wait_budget_seconds);"
                " try again later",
                service=self.service,
            )
        self.waits += 1
        self.used_seconds += seconds
        asked = " as asked (Retry-After)" if retry_after_seconds is not None else ""
        self.say(
            f"{self.service}: {problem}; waiting {seconds:.0f} s{asked},"
            f" {_minutes(self.used_seconds)} of {_minutes(self.budget_seconds)} minutes used"
        )
        self.sleep(seconds)


def retry_after_seconds(value: str | None) -> float | None:
    """A `Retry-After` header's delay in seconds (only the delta-seconds form arXiv sends)."""
    if value is None:
        return None
    text = value.strip()
    return float(text) if text.isdigit() else None


def _minutes(seconds: float) -> str:
    minutes = seconds / 60
    return f"{minutes:.0f}" if minutes >= 10 or minutes == int(minutes) else f"{minutes:.1f}"
