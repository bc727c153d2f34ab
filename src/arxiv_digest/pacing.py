"""How many model requests may be in flight: at most `llm.concurrency`, fewer while the
provider answers 429.

On a 429 the limit drops to the number of requests still in flight, so a
burst of rejections settles it at what the provider serves at once; after
`limit` successes in a row it grows by one again, up to the configured maximum.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class AdaptiveLimit:
    def __init__(self, maximum: int) -> None:
        self.maximum = maximum
        self.limit = maximum
        self.in_flight = 0
        self.peak_in_flight = 0
        self._successes = 0
        self._changed = asyncio.Condition()

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        async with self._changed:
            await self._changed.wait_for(lambda: self.in_flight < self.limit)
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        try:
            yield
        finally:
            async with self._changed:
                self.in_flight -= 1
                self._changed.notify_all()

    def succeeded(self) -> None:
        self._successes += 1
        if self._successes >= self.limit and self.limit < self.maximum:
            self.limit += 1
            self._successes = 0

    def throttled(self) -> None:
        """Called inside the slot of a request that got a 429."""
        self.limit = max(1, min(self.limit, self.in_flight - 1))
        self._successes = 0
