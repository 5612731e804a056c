"""A model-free server for the web channel: the real :class:`WebChatInput` in front of an echo bot.

For working on the widget without training a model, and for the channel's unit tests::

    python -m channels.web.devserver --port 8000     # then open http://127.0.0.1:8000/webhooks/web/demo

The app is assembled like ``rasa run`` assembles it (Sanic-CORS on the whole app, channels under
``/webhooks/``), so the channel meets the same middleware as in production. The echo bot keeps a real
in-memory tracker store, so erasing a conversation can be observed. Developer commands (never shown
to users, not localised): ``/greet``, ``/fail`` (the bot raises), ``/slow`` (longer than the reply
timeout), ``/silent`` (no reply), ``/html`` and ``/links`` (hostile markup and links for sanitising).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import threading
from typing import Any, Optional

from rasa.core.channels.channel import UserMessage, register
from rasa.core.lock_store import InMemoryLockStore
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import UserUttered
from sanic import Sanic

from channels.web.channel import WebChatInput, WebSettings

logger = logging.getLogger(__name__)

HOSTILE_TEXT = '<img src=x onerror="window.__beaconXss=1"><script>window.__beaconXss=1</script> call 0800 1111'
HOSTILE_LINKS = [
    {"title": "safe https", "url": "https://example.org/help"},
    {"title": "javascript", "url": "javascript:window.__beaconXss=1"},
    {"title": "data", "url": "data:text/html,<script>window.__beaconXss=1</script>"},
    {"title": "plain http", "url": "http://example.org/"},
    {"title": "phone", "url": "tel:0800 1111"},
]


class EchoAgent:
    """Stands in for ``rasa.core.agent.Agent``: echoes every message, numbered per conversation."""

    def __init__(self, slow_seconds: float = 5.0) -> None:
        self.tracker_store = InMemoryTrackerStore(Domain.empty())
        self.lock_store = InMemoryLockStore()
        self.processor = None
        self.slow_seconds = slow_seconds
        self.received: list = []

    async def handle_message(self, message: UserMessage) -> None:
        self.received.append(message)
        async with self.lock_store.lock(message.sender_id):
            tracker = await self.tracker_store.get_or_create_tracker(message.sender_id)
            tracker.update(UserUttered(message.text, metadata=message.metadata))
            await self.tracker_store.save(tracker)
            turn = sum(1 for event in tracker.events if isinstance(event, UserUttered))
        out = message.output_channel
        text = message.text or ""
        language = (message.metadata or {}).get("language", "-")
        if text == "/fail":
            raise RuntimeError("echo bot failure (requested)")
        if text == "/slow":
            await asyncio.sleep(self.slow_seconds)
        if text == "/silent":
            return
        if text == "/html":
            await out.send_response(message.sender_id, {"text": HOSTILE_TEXT})
            return
        if text == "/links":
            await out.send_response(message.sender_id, {"text": "links", "custom": {"links": HOSTILE_LINKS}})
            return
        buttons = [{"title": "Again", "payload": "/again"}, {"title": "Fail", "payload": "/fail"}]
        await out.send_response(message.sender_id,
                                {"text": f"echo {turn} [{language}]: {text}", "buttons": buttons})


class DevSanic(Sanic):
    """Sanic in "test mode": its start-up touch-up (which rewrites class methods from their source) keeps
    the originals, so that several apps can start in one process (one per test module or setting)."""

    test_mode = True


def create_app(settings: Optional[WebSettings] = None, agent: Optional[Any] = None, name: str = "beacon_web_dev",
               cors: Any = None) -> Sanic:
    """A Sanic app shaped like ``rasa run``'s, with the web channel and an echo agent."""
    from rasa import server

    app = DevSanic(name, configure_logging=False)
    server.configure_cors(app, cors)
    app.ctx.agent = agent or EchoAgent()
    register([WebChatInput(settings)], app, route="/webhooks/")
    return app


class ThreadedServer:
    """Runs an app on 127.0.0.1:``port`` in a background thread (tests)."""

    def __init__(self, app: Sanic, port: int) -> None:
        self.app, self.port = app, port
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._server: Any = None
        self._error: Optional[BaseException] = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._start())
        except Exception as error:  # reported by start()
            logger.exception("dev server failed to start")
            self._error = error
            self._ready.set()
            return
        self._ready.set()
        self._loop.run_forever()

    async def _start(self) -> None:
        self._server = await self.app.create_server(host="127.0.0.1", port=self.port, return_asyncio_server=True,
                                                    access_log=False)
        await self._server.startup()
        await self._server.before_start()
        await self._server.after_start()

    def start(self) -> "ThreadedServer":
        self._thread.start()
        self._ready.wait(30)
        if self._error is not None:
            raise RuntimeError(f"dev server failed to start: {self._error!r}")
        return self

    def stop(self) -> None:
        async def _stop() -> None:
            await self._server.before_stop()
            self._server.close()
            await self._server.wait_closed()
            await self._server.after_stop()

        if self._server is not None:
            asyncio.run_coroutine_threadsafe(_stop(), self._loop).result(15)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(15)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO)
    app = create_app()
    print(f"demo: http://{args.host}:{args.port}/webhooks/web/demo (echo bot, no model)", flush=True)
    app.run(host=args.host, port=args.port, access_log=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
