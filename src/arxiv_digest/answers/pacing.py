"""How many model requests may be in flight: at most `llm.concurrency`, fewer while the
provider answers 429.

On a 429 the limit drops to the number of requests still in flight, so a
burst of rejections settles it at what the provider serves at once; after
`limit` successes in a row it grows by one again, up to the configured maximum.

A free slot goes to the waiting request of the highest priority, first come first
served among equals: long requests (an analysis) go first, so that the build does
not end waiting on one that started last.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class AdaptiveLimit:
    def __init__(self, maximum: int) -> None:
        self.maximum = maximum
        self.limit = maximum
        self.in_flight = 0
        self.peak_in_flight = 0
        self._successes = 0
        # Waiting requests: (-priority, arrival, future), the next to go first.
        self._waiting: list[tuple[int, int, asyncio.Future[None]]] = []
        self._arrivals = itertools.count()

    @asynccontextmanager
    async def slot(self, priority: int = 0) -> AsyncIterator[None]:
        if self.in_flight < self.limit and not self._waiting:
            self._take()
        else:
            turn = asyncio.get_running_loop().create_future()
            heapq.heappush(self._waiting, (-priority, next(self._arrivals), turn))
            try:
                await turn  # the slot is taken for us when the turn comes
            except asyncio.CancelledError:
                if turn.done() and not turn.cancelled():
                    self._release()  # granted as it was cancelled: give it on
                raise
        try:
            yield
        finally:
            self._release()

    def _take(self) -> None:
        self.in_flight += 1
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)

    def _release(self) -> None:
        self.in_flight -= 1
        self._grant()

    def _grant(self) -> None:
        while self._waiting and self.in_flight < self.limit:
            _, _, turn = heapq.heappop(self._waiting)
            if not turn.done():
                self._take()
                turn.set_result(None)

    def succeeded(self) -> None:
        self._successes += 1
        if self._successes >= self.limit and self.limit < self.maximum:
            self.limit += 1
            self._successes = 0
            self._grant()

    def throttled(self) -> None:
        """Called inside the slot of a request that got a 429."""
        self.limit = max(1, min(self.limit, self.in_flight - 1))
        self._successes = 0
