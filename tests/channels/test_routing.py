"""The router tree every update walks: nothing in it may leave the event loop.

aiogram sends a synchronous filter or handler through `asyncio.to_thread` each time an
update reaches it (souk/handlers/filters.py); a bare `State` or `F` expression in a
decorator would cost every update that passes it a thread hop.
"""

from __future__ import annotations

from collections.abc import Iterator

from aiogram import F, Router
from aiogram.fsm.state import State

from souk.runtime import Runtime


def routers(router: Router) -> Iterator[Router]:
    yield router
    for child in router.sub_routers:
        yield from routers(child)


def synchronous_parts(root: Router) -> list[str]:
    found = []
    for router in routers(root):
        for event, observer in router.observers.items():
            for flt in observer._handler.filters or []:
                if not flt.awaitable:
                    found.append(f"{router.name} {event} router filter {flt.callback!r}")
            for handler in observer.handlers:
                name = getattr(handler.callback, "__qualname__", repr(handler.callback))
                if not handler.awaitable:
                    found.append(f"{router.name} {event} handler {name}")
                for flt in handler.filters or []:
                    if not flt.awaitable:
                        found.append(f"{router.name} {event} {name}: {flt.magic or flt.callback!r}")
    return found


def test_every_filter_and_handler_runs_on_the_event_loop(runtime: Runtime) -> None:
    assert runtime.dispatcher is not None
    assert synchronous_parts(runtime.dispatcher) == []


def test_a_bare_state_or_magic_filter_is_found() -> None:
    router = Router(name="probe")

    @router.message(State("waiting", group_name="Probe"), F.text)
    async def probe() -> None: ...

    found = synchronous_parts(router)
    assert len(found) == 2
    assert all("probe" in line for line in found)
