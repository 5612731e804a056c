"""A slow turn gets a safe reply in time but is never cancelled: Rasa saves a turn at its end, so a
cancelled turn would silently drop the user's message from the conversation."""

import asyncio

from channels.common import within


def test_a_fast_turn_finishes_in_time():
    async def turn():
        await asyncio.sleep(0.01)
        return "done"

    assert asyncio.run(within(turn(), timeout=1.0)) is True


def test_a_slow_turn_is_reported_late_but_still_completes():
    finished = []

    async def turn():
        await asyncio.sleep(0.3)
        finished.append("saved")

    async def scenario():
        in_time = await within(turn(), timeout=0.05)
        assert finished == []  # the caller answers now ...
        await asyncio.sleep(0.5)  # ... and the turn completes afterwards
        return in_time

    assert asyncio.run(scenario()) is False
    assert finished == ["saved"]


def test_an_error_in_time_reaches_the_caller():
    async def turn():
        raise RuntimeError("action server down")

    async def scenario():
        try:
            await within(turn(), timeout=1.0)
        except RuntimeError as error:
            return str(error)
        return "no error"

    assert asyncio.run(scenario()) == "action server down"


def test_an_error_after_the_timeout_is_logged_not_raised(caplog):
    async def turn():
        await asyncio.sleep(0.1)
        raise RuntimeError("late failure")

    async def scenario():
        in_time = await within(turn(), timeout=0.01)
        await asyncio.sleep(0.3)
        return in_time

    assert asyncio.run(scenario()) is False
    assert "late failure" in caplog.text
