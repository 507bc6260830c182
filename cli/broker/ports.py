"""Free TCP ports on 127.0.0.1, for brokers (and tests) started side by side."""

from __future__ import annotations

import socket

from shared.admin import HOST


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free now (another process may take it later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def port_is_free(port: int) -> bool:
    """Whether a broker could bind ``port`` on 127.0.0.1 now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        # Without it, a port still in TIME_WAIT from the previous broker would count as taken,
        # though the broker (which sets SO_REUSEADDR too) can bind it.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((HOST, port))
        except OSError:
            return False
        return True
