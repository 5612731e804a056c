"""A small HTTP/1.1 load balancer for the scale-out tests: round-robin, or sticky by conversation.

It stands in for nginx/traefik in front of several ``rasa run`` replicas. Behaviour copied from
nginx's defaults so that test results carry over:

* one request per client connection (``Connection: close`` both ways; bodies by ``Content-Length``);
* **round-robin** over the backends, or **sticky**: the backend is chosen by a hash of the JSON
  body's ``"sender"`` (what nginx ``hash $conversation consistent`` or a traefik sticky cookie does);
* a backend that refuses the connection is skipped and the next one tried (nginx
  ``proxy_next_upstream error``: safe, the request never reached the dead backend);
* a backend that drops the connection after the request was sent gives the client a ``502`` and is
  NOT retried (nginx does not resend a POST, it may already have been processed);
* every routed request is recorded (``log``: sender, backend index, status) for the tests.

Runs its own asyncio loop in a daemon thread (``with Proxy(...) as proxy:``), or standalone::

    python -m tests.scale.proxy --listen 8080 --sticky 127.0.0.1:5005 127.0.0.1:5006
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import threading
from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

Backend = Tuple[str, int]
MAX_HEADER_BYTES = 64 * 1024
HOP_BY_HOP = {b"connection", b"keep-alive", b"proxy-connection", b"transfer-encoding", b"upgrade", b"te", b"trailer"}


@dataclass
class Routed:
    """One proxied request."""

    sender: Optional[str]
    backend: Optional[int]  # index into the backend list; None when no backend answered
    status: int
    attempts: int  # backends tried (connection refused → next)


class Proxy:
    """Round-robin (default) or sticky-by-sender reverse proxy on 127.0.0.1."""

    def __init__(self, backends: Sequence[Backend], sticky: bool = False, port: int = 0,
                 upstream_timeout: float = 120.0) -> None:
        self.backends: List[Backend] = list(backends)
        self.sticky = sticky
        self.port = port
        self.upstream_timeout = upstream_timeout
        self.log: List[Routed] = []
        self._next = 0
        self._lock = threading.Lock()
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._server: Optional[asyncio.base_events.Server] = None
        self._thread: Optional[threading.Thread] = None

    # --- lifecycle -------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "Proxy":
        ready = threading.Event()
        failure: List[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            try:
                self._server = loop.run_until_complete(
                    asyncio.start_server(self._handle, "127.0.0.1", self.port, backlog=512))
                self.port = self._server.sockets[0].getsockname()[1]
            except BaseException as error:  # noqa: BLE001
                failure.append(error)
                ready.set()
                return
            ready.set()
            loop.run_forever()
            self._server.close()
            loop.run_until_complete(self._server.wait_closed())
            pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
            for task in pending:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.close()

        self._thread = threading.Thread(target=run, name=f"proxy-{'sticky' if self.sticky else 'rr'}", daemon=True)
        self._thread.start()
        ready.wait(10)
        if failure:
            raise failure[0]
        return self

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)

    def __enter__(self) -> "Proxy":
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    # --- routing ---------------------------------------------------------------------------------

    def order_for(self, sender: Optional[str]) -> List[int]:
        """Backends to try, first choice first."""
        count = len(self.backends)
        if self.sticky and sender is not None:
            first = int.from_bytes(hashlib.sha256(sender.encode()).digest()[:4], "big") % count
        else:
            with self._lock:
                first = self._next % count
                self._next += 1
        return [(first + i) % count for i in range(count)]

    def routed(self, sender: str) -> List[int]:
        """The backend of each request of ``sender`` so far, in arrival order."""
        return [r.backend for r in list(self.log) if r.sender == sender]

    # --- the connection handler --------------------------------------------------------------------

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            writer.close()
            return
        try:
            request_line, headers = _parse_head(head)
            length = int(headers.get(b"content-length", b"0") or 0)
            body = await reader.readexactly(length) if length else b""
        except (ValueError, asyncio.IncompleteReadError, ConnectionError):
            await _reply(writer, 400, b'{"error": "bad request"}')
            return
        sender = _sender_of(body)
        upstream_head = _rebuild_head(request_line, headers, length)
        attempts = 0
        for index in self.order_for(sender):
            host, port = self.backends[index]
            attempts += 1
            try:
                up_reader, up_writer = await asyncio.wait_for(asyncio.open_connection(host, port), 5)
            except (OSError, asyncio.TimeoutError):
                continue  # refused: the request never reached this backend, try the next one
            try:
                up_writer.write(upstream_head + body)
                await up_writer.drain()
                raw = await asyncio.wait_for(up_reader.read(-1), self.upstream_timeout)
                status = _status_of(raw)
                if status is None:
                    raise ConnectionError("backend closed the connection without a response")
            except (OSError, asyncio.TimeoutError, ConnectionError):
                # Sent, then the backend died: it may have processed the message; never resend a POST.
                self.log.append(Routed(sender, index, 502, attempts))
                await _reply(writer, 502, b'{"error": "bad gateway"}')
                return
            finally:
                up_writer.close()
            self.log.append(Routed(sender, index, status, attempts))
            try:
                writer.write(_force_close(raw))
                await writer.drain()
            except ConnectionError:
                pass
            finally:
                writer.close()
            return
        self.log.append(Routed(sender, None, 502, attempts))
        await _reply(writer, 502, b'{"error": "no backend available"}')


def _parse_head(head: bytes) -> Tuple[bytes, dict]:
    lines = head.split(b"\r\n")
    request_line = lines[0]
    if len(head) > MAX_HEADER_BYTES or len(request_line.split(b" ")) != 3:
        raise ValueError("bad request line")
    headers = {}
    for line in lines[1:]:
        if not line:
            continue
        name, _, value = line.partition(b":")
        headers[name.strip().lower()] = value.strip()
    if b"chunked" in headers.get(b"transfer-encoding", b"").lower():
        raise ValueError("chunked request bodies are not supported")
    return request_line, headers


def _rebuild_head(request_line: bytes, headers: dict, length: int) -> bytes:
    lines = [request_line]
    for name, value in headers.items():
        if name in HOP_BY_HOP or name == b"content-length":
            continue
        lines.append(name + b": " + value)
    lines += [b"content-length: " + str(length).encode(), b"connection: close", b"", b""]
    return b"\r\n".join(lines)


def _sender_of(body: bytes) -> Optional[str]:
    try:
        value = json.loads(body or b"null")
    except ValueError:
        return None
    sender = value.get("sender") if isinstance(value, dict) else None
    return str(sender) if isinstance(sender, (str, int)) else None


def _status_of(raw: bytes) -> Optional[int]:
    if not raw.startswith(b"HTTP/"):
        return None
    try:
        return int(raw.split(b" ", 2)[1])
    except (IndexError, ValueError):
        return None


def _force_close(raw: bytes) -> bytes:
    head, sep, body = raw.partition(b"\r\n\r\n")
    lines = [line for line in head.split(b"\r\n") if not line.lower().startswith((b"connection:", b"keep-alive:"))]
    return b"\r\n".join(lines + [b"connection: close"]) + sep + body


async def _reply(writer: asyncio.StreamWriter, status: int, body: bytes) -> None:
    reason = {400: b"Bad Request", 502: b"Bad Gateway"}.get(status, b"Error")
    try:
        writer.write(b"HTTP/1.1 %d %s\r\ncontent-type: application/json\r\ncontent-length: %d\r\n"
                     b"connection: close\r\n\r\n%s" % (status, reason, len(body), body))
        await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listen", type=int, default=8080)
    parser.add_argument("--sticky", action="store_true", help="route by the JSON body's sender")
    parser.add_argument("backends", nargs="+", help="host:port of each replica")
    args = parser.parse_args()
    backends = [(b.rsplit(":", 1)[0], int(b.rsplit(":", 1)[1])) for b in args.backends]
    proxy = Proxy(backends, sticky=args.sticky, port=args.listen).start()
    print(f"proxy on {proxy.url} -> {backends} ({'sticky' if args.sticky else 'round-robin'})", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        proxy.stop()


if __name__ == "__main__":
    main()
