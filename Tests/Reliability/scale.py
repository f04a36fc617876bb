"""Scale: 10,000 concurrent idle keep-alive connections (each has made one request), held
without errors; attache's RSS at 0, 1,000 and 10,000 connections."""

import select
import socket
import time

from harness import Attache, FaultUpstream, raise_fd_limit, read_response

TARGET = 10_000


def run(ledger, binary, rules):
    limit = raise_fd_limit(2 * TARGET + 1000)
    if limit < TARGET + 500:
        ledger.skip("scale: 10,000 connections", f"the open-file limit is {limit} and cannot be raised")
        return
    upstream = FaultUpstream()
    attache = Attache(binary, upstream.port, rules)
    sockets = []
    try:
        time.sleep(0.5)
        rss = {0: attache.rss_kib()}
        failures = 0
        started = time.time()
        for count in range(1, TARGET + 1):
            try:
                sock = socket.create_connection(("127.0.0.1", attache.port), timeout=10)
                sock.sendall(b"GET /ok/16 HTTP/1.1\r\nHost: test\r\n\r\n")
                response = read_response(_Wrapped(sock))
                if response is None or response.status != 200:
                    failures += 1
                sockets.append(sock)
            except OSError:
                failures += 1
            if count == 1000:
                time.sleep(0.5)
                rss[1000] = attache.rss_kib()
        opened = time.time() - started
        time.sleep(1)
        rss[TARGET] = attache.rss_kib()
        ledger.check(f"scale: {TARGET:,} keep-alive connections opened, each answered 200",
                     failures == 0 and len(sockets) == TARGET, f"{failures} failures, {opened:.1f} s")
        # None of them was closed: a closed socket would be readable (EOF).
        poller = select.poll()
        for sock in sockets:
            poller.register(sock, select.POLLIN | select.POLLHUP | select.POLLERR)
        readable = len(poller.poll(0))
        ledger.check(f"scale: all {TARGET:,} idle connections still open", readable == 0, f"{readable} closed")
        # Every 50th connection is used again: 200 requests, all answered.
        answered = 0
        for sock in sockets[::50]:
            try:
                sock.sendall(b"GET /ok/16 HTTP/1.1\r\nHost: test\r\n\r\n")
                response = read_response(_Wrapped(sock))
                answered += response is not None and response.status == 200
            except OSError:
                pass
        ledger.check(f"scale: {TARGET // 50} of the idle connections reused, all answered 200",
                     answered == TARGET // 50, f"{answered} answered")
        report = ", ".join(f"{count:,} connections {kib / 1024:.1f} MiB" for count, kib in sorted(rss.items()))
        per_connection = (rss[TARGET] - rss[0]) / TARGET
        ledger.check("scale: RSS with 10,000 idle connections stays under 200 MiB", rss[TARGET] < 200 * 1024,
                     f"{report}; {per_connection:.1f} KiB per connection")
        for sock in sockets:
            sock.close()
        sockets = []
        churn(ledger, attache)
    finally:
        for sock in sockets:
            sock.close()
        code = attache.stop()
        ledger.check("scale: attache exits 0 after SIGTERM with the connections closed", code == 0, f"exit {code}")
        upstream.stop()


def churn(ledger, attache):
    """20,000 connections opened, used once and closed: nothing stays behind per connection."""
    def burst(count):
        for _ in range(count):
            sock = socket.create_connection(("127.0.0.1", attache.port), timeout=10)
            sock.sendall(b"GET /ok/16 HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
            while sock.recv(65536):
                pass
            sock.close()

    burst(2000)
    time.sleep(0.5)
    before = attache.rss_kib()
    fds_before = attache.open_fds()
    burst(20_000)
    time.sleep(1)
    after = attache.rss_kib()
    fds_after = attache.open_fds()
    per_connection = (after - before) * 1024 / 20_000
    ledger.check("scale: 20,000 more connections opened and closed leave no memory or descriptors behind "
                 "(RSS grows under 1 MiB)", after - before < 1024 and fds_after <= fds_before,
                 f"RSS {before / 1024:.1f} -> {after / 1024:.1f} MiB ({per_connection:.0f} bytes per connection), "
                 f"descriptors {fds_before} -> {fds_after}")


class _Wrapped:
    """Gives a plain socket the `pending` attribute read_response keeps leftovers in."""

    def __init__(self, sock):
        self.sock = sock
        self.pending = b""

    def settimeout(self, value):
        self.sock.settimeout(value)

    def recv(self, size):
        return self.sock.recv(size)
