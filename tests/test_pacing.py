"""The adaptive limit on model requests in flight."""

from __future__ import annotations

import asyncio

from arxiv_digest.answers.pacing import AdaptiveLimit


def test_a_burst_of_429s_settles_the_limit_at_what_the_provider_serves() -> None:
    async def scenario() -> list[int]:
        limit = AdaptiveLimit(16)
        served_at_once = 8
        gate = asyncio.Event()

        async def request() -> None:
            async with limit.slot():
                if limit.in_flight > served_at_once:
                    limit.throttled()
                    return
                await gate.wait()
                limit.succeeded()

        tasks = [asyncio.create_task(request()) for _ in range(16)]
        await asyncio.sleep(0.01)
        settled = limit.limit
        gate.set()
        await asyncio.gather(*tasks)
        return [settled, limit.peak_in_flight]

    settled, peak = asyncio.run(scenario())

    # The ninth request is the only one turned away: the rest wait for a slot.
    assert settled == 8
    assert peak == 9


def test_the_limit_grows_back_after_a_run_of_successes() -> None:
    async def scenario() -> list[int]:
        limit = AdaptiveLimit(4)
        async with limit.slot(), limit.slot(), limit.slot():
            limit.throttled()  # three in flight, this one rejected: two are served
        seen = [limit.limit]
        for _ in range(2 + 3):
            async with limit.slot():
                limit.succeeded()
            seen.append(limit.limit)
        return seen

    assert asyncio.run(scenario()) == [2, 2, 3, 3, 3, 4]


def test_a_free_slot_goes_to_the_highest_priority_first_come_among_equals() -> None:
    async def scenario() -> list[str]:
        limit = AdaptiveLimit(1)
        order: list[str] = []
        release = asyncio.Event()

        async def request(name: str, priority: int) -> None:
            async with limit.slot(priority):
                order.append(name)
                if name == "first":
                    await release.wait()

        holder = asyncio.create_task(request("first", 0))
        await asyncio.sleep(0)
        waiting = [asyncio.create_task(request(name, priority)) for name, priority in
                   (("translation 1", 0), ("analysis 1", 1), ("translation 2", 0),
                    ("analysis 2", 1))]  # fmt: skip
        await asyncio.sleep(0.01)
        release.set()
        await asyncio.gather(holder, *waiting)
        assert limit.in_flight == 0
        return order

    assert asyncio.run(scenario()) == [
        "first", "analysis 1", "analysis 2", "translation 1", "translation 2",
    ]  # fmt: skip


def test_a_request_cancelled_while_waiting_takes_no_slot() -> None:
    async def scenario() -> int:
        limit = AdaptiveLimit(1)
        async with limit.slot():
            waiting = asyncio.create_task(_hold(limit))
            await asyncio.sleep(0)
            waiting.cancel()
        await asyncio.sleep(0)
        async with limit.slot():  # the freed slot is not lost to the cancelled request
            return limit.in_flight

    assert asyncio.run(scenario()) == 1


async def _hold(limit: AdaptiveLimit) -> None:
    async with limit.slot():
        await asyncio.sleep(1)
