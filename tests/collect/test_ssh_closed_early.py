"""A server that closes before its banner (sshd's MaxStartups drop) gets one more try, then is unreachable."""

from __future__ import annotations

import socket
import threading

import pytest

from scanner.collect import CollectError, ssh
from scanner.collect.sshconfig import Endpoint


def test_a_server_closing_before_its_banner_is_tried_twice() -> None:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.settimeout(15)
    accepted: list[int] = []

    def close_each() -> None:
        for _ in range(3):
            try:
                conn, _ = server.accept()
            except OSError:
                return
            accepted.append(1)
            conn.close()  # no banner: what sshd does when MaxStartups drops a connection

    thread = threading.Thread(target=close_each, daemon=True)
    thread.start()
    ep = Endpoint(
        label="dropper", address="127.0.0.1", port=server.getsockname()[1], user="kijun",
        identity_files=(), identities_only=True, proxy_jump="",
    )  # fmt: skip
    with pytest.raises(CollectError, match="closed before the banner"):
        ssh._login([ep], ssh._Clock(30.0), [])
    server.close()
    thread.join(5)
    assert len(accepted) == 2
