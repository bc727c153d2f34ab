"""How a build shows its progress: one live line on a terminal (rich), plain lines in logs.

Both follow the enricher's events (`enrich.Tracker`): the answers planned, and each one
settled, from the model or from the cache. Warnings and failures come as lines of their
own, above the live line or in the log, each naming its day.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from arxiv_digest.answers.enrich import Need, Outcome
from arxiv_digest.models import Gap, Pending, Usage
from arxiv_digest.report import plural


@dataclass
class Counts:
    """What a run has planned and settled so far."""

    started: float = field(default_factory=time.monotonic)
    planned: int = 0
    settled: int = 0
    cached: int = 0
    failed: int = 0
    pending: int = 0
    """Answers waiting in a provider's batch."""
    tokens: int = 0
    needs_by_paper: dict[str, int] = field(default_factory=dict)
    days: set[date] = field(default_factory=set)

    @property
    def papers(self) -> int:
        return len(self.needs_by_paper)

    @property
    def papers_done(self) -> int:
        return sum(1 for left in self.needs_by_paper.values() if left == 0)

    def plan(self, needs: Sequence[Need]) -> None:
        self.planned += len(needs)
        for need in needs:
            paper = need.paper.arxiv_id
            self.needs_by_paper[paper] = self.needs_by_paper.get(paper, 0) + 1
            if need.day is not None:
                self.days.add(need.day)

    def settle(self, need: Need, outcome: Outcome, *, cached: bool, usage: Usage) -> None:
        self.settled += 1
        self.cached += cached
        self.failed += isinstance(outcome, Gap)
        self.pending += isinstance(outcome, Pending)
        self.tokens += 0 if cached else usage.tokens_in + usage.tokens_out
        self.needs_by_paper[need.paper.arxiv_id] -= 1

    def status(self) -> str:
        """`2026-02-13: 12 of 40 answers, 4 of 20 papers done, 48,210 tokens, 1:05 …`"""
        elapsed = time.monotonic() - self.started
        left = ""
        if 0 < self.settled < self.planned:
            left = f", about {_clock(elapsed / self.settled * (self.planned - self.settled))} left"
        batched = f", {self.pending} waiting in a batch" if self.pending else ""
        return (
            f"{self.span()}: {self.settled} of {plural(self.planned, 'answer')}{batched},"
            f" {self.papers_done} of {plural(self.papers, 'paper')} done,"
            f" {self.tokens:,} tokens, {_clock(elapsed)} elapsed{left}"
        )

    def span(self) -> str:
        if not self.days:
            return "today"
        first, last = min(self.days), max(self.days)
        return str(first) if first == last else f"{first} … {last}"


def _clock(seconds: float) -> str:
    minutes, seconds = divmod(int(seconds), 60)
    return f"{minutes}:{seconds:02d}"


class PlainProgress:
    """For logs (CI, the nightly job): a line of totals at most every `every_seconds` and
    one at the end, the answers from the cache in one line, and warnings as they come."""

    def __init__(self, write: Callable[[str], None], *, every_seconds: float = 10.0) -> None:
        self._write = write
        self._every_seconds = every_seconds
        self._last = 0.0
        self.counts = Counts()

    def say(self, message: str) -> None:
        self._write(message)

    def planned(self, needs: Sequence[Need]) -> None:
        self.counts = Counts()
        self.counts.plan(needs)
        self._last = time.monotonic()

    def finished(self, need: Need, outcome: Outcome, *, cached: bool, usage: Usage) -> None:
        self.counts.settle(need, outcome, cached=cached, usage=usage)
        if time.monotonic() - self._last >= self._every_seconds:
            self._last = time.monotonic()
            self._write(self.counts.status())

    def __enter__(self) -> PlainProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.counts.planned:
            self._write(self.counts.status())
        if self.counts.cached:
            self._write(f"{plural(self.counts.cached, 'answer')} came from the cache")


class LiveProgress:
    """For a terminal: one line that rich redraws (answers, papers, tokens, time left),
    with warnings printed above it."""

    def __init__(self, redact: Callable[[str], str], console: Any = None) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn

        self._redact = redact
        self._console = console or Console(stderr=True, highlight=False)
        # The description carries the counts and the time left; the bar shows the share done.
        self._bar = Progress(
            TextColumn("{task.description}"), BarColumn(), console=self._console, transient=False
        )
        self._task: Any = None
        self.counts = Counts()

    def say(self, message: str) -> None:
        self._console.print(self._redact(message), markup=False)

    def planned(self, needs: Sequence[Need]) -> None:
        self.counts = Counts()
        self.counts.plan(needs)
        if needs:
            self._task = self._bar.add_task(self.counts.status(), total=len(needs))
            self._bar.start()

    def finished(self, need: Need, outcome: Outcome, *, cached: bool, usage: Usage) -> None:
        self.counts.settle(need, outcome, cached=cached, usage=usage)
        if self._task is not None:
            self._bar.update(
                self._task, completed=self.counts.settled, description=self.counts.status()
            )

    def __enter__(self) -> LiveProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self._bar.stop()
        if self.counts.cached:
            self.say(f"{plural(self.counts.cached, 'answer')} came from the cache")
