"""WSGI apps served over real HTTP on 127.0.0.1, for as many as a test needs at once.

Servers are threaded werkzeug servers kept for the whole session and lent to tests: a test
plugs its app into a free one, and the app is unplugged at teardown. Starting and stopping a
server per test would cost werkzeug's 0.5 s shutdown poll every time.
"""

from __future__ import annotations

import threading
from typing import Any

from werkzeug.serving import make_server


class _Slot:
    """One running server; requests go to whichever app is plugged in."""

    def __init__(self) -> None:
        self.app: Any = None
        self.server = make_server("127.0.0.1", 0, self, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def __call__(self, environ: Any, start_response: Any) -> Any:
        return self.app(environ, start_response)


class ServerPool:
    def __init__(self) -> None:
        self._free: list[_Slot] = []
        self._all: list[_Slot] = []

    def plug(self, app: Any) -> _Slot:
        slot = self._free.pop() if self._free else self._new()
        slot.app = app
        return slot

    def unplug(self, slot: _Slot) -> None:
        slot.app = None
        self._free.append(slot)

    def _new(self) -> _Slot:
        self._all.append(_Slot())
        return self._all[-1]

    def close(self) -> None:
        for slot in self._all:
            slot.server.shutdown()
            slot.server.server_close()
