"""The Studio's one fork server (``pto_wsp.runtime.fork_server``): started when the first runner
is made, so that by the first Run click a process with ``pto_wsp`` imported is waiting, and every
run of this Studio is a fresh fork of it instead of a new interpreter.

One per process, shared by every window and the sweep; stopped at exit. Set
``PTO_WSP_FORK_SERVER=0`` to start each run as a new process (the runs are the same, only
slower to start).
"""

from __future__ import annotations

import atexit
import os
import threading

from pto_wsp.runtime.fork_server import ForkServer, ForkServerError

from .job import worker_environment

__all__ = ["shared_server", "ENV_SWITCH"]

ENV_SWITCH = "PTO_WSP_FORK_SERVER"

_lock = threading.Lock()
_server: ForkServer | None = None


def shared_server() -> ForkServer | None:
    """The running server (started on first use), or None where it is off or cannot run."""
    global _server
    if os.environ.get(ENV_SWITCH, "1").strip() in ("0", "false", "no", "off"):
        return None
    if not ForkServer.supported:
        return None
    with _lock:
        if _server is not None and _server.alive:
            return _server
        server = ForkServer(env=worker_environment())
        try:
            server.start()
        except (OSError, ForkServerError):
            return None
        if _server is None:
            atexit.register(_stop)
        _server = server
        return server


def _stop() -> None:
    global _server
    with _lock:
        if _server is not None:
            _server.close()
            _server = None
