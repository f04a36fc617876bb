"""Fault harness: upstreams that misbehave and clients that misbehave, each with an exact
expected outcome (status, bytes, connection closed or kept)."""

import hashlib
import socket
import threading
import time

from harness import Attache, FaultUpstream, body_pattern, closed_by_peer, connect, read_response, request


def run(ledger, binary, rules):
    upstream = FaultUpstream()
    attache = Attache(binary, upstream.port, rules, "--response-timeout", "2", "--head-timeout", "2",
                      "--connect-timeout", "1")
    try:
        upstream_faults(ledger, attache, upstream)
        client_faults(ledger, attache, upstream)
        backpressure(ledger, attache, upstream)
        ledger.check("faults: attache is still running after every fault", attache.process.poll() is None)
    finally:
        code = attache.stop()
        ledger.check("faults: attache exits 0 on SIGTERM", code == 0, f"exit {code}")
        upstream.stop()


def upstream_faults(ledger, attache, upstream):
    port = attache.port

    response, kept = request(port, "/delay/500")
    ledger.check("upstream delays 0.5 s (under the response timeout): 200 'late', connection kept",
                 response is not None and response.status == 200 and response.body == b"late" and kept)

    started = time.time()
    response, kept = request(port, "/delay/4000")
    elapsed = time.time() - started
    ledger.check("upstream silent past --response-timeout 2: 504 after 2 s, client connection kept",
                 response is not None and response.status == 504 and 1.9 < elapsed < 3.5 and kept,
                 f"status {response and response.status}, {elapsed:.2f} s, kept {kept}")

    response, kept = request(port, "/reset-head")
    ledger.check("upstream resets during the response head: 502, client connection kept",
                 response is not None and response.status == 502 and kept,
                 f"status {response and response.status}, kept {kept}")

    sock = connect(port)
    sock.sendall(b"GET /reset-body HTTP/1.1\r\nHost: test\r\n\r\n")
    response = read_response(sock)
    sock.close()
    ledger.check("upstream resets mid-body: the client gets the 200 head, the 40,000 bytes sent and an "
                 "abrupt close before the declared 100,000",
                 response is not None and response.status == 200 and not response.complete
                 and response.body == body_pattern(40000),
                 f"{response and len(response.body)} bytes, complete {response and response.complete}")

    response, kept = request(port, "/trickle")
    ledger.check("upstream trickles its response one byte at a time: 200 with the exact 200 bytes, kept",
                 response is not None and response.status == 200 and response.body == body_pattern(200, seed=3)
                 and kept)

    response, kept = request(port, "/garbage")
    ledger.check("upstream sends a garbage status line: 502, client connection kept",
                 response is not None and response.status == 502 and kept,
                 f"status {response and response.status}, kept {kept}")

    response, kept = request(port, "/huge-head")
    ledger.check("upstream sends an 80 KiB header block: 502, client connection kept",
                 response is not None and response.status == 502 and kept,
                 f"status {response and response.status}, kept {kept}")

    # The upstream closes half of its keep-alive connections right after a response, without
    # Connection: close. attache must notice, or retry on a new connection: never a 502.
    sock = connect(port)
    good = 0
    for index in range(300):
        size = 1 + index * 37 % 5000
        sock.sendall(b"GET /flaky/%d HTTP/1.1\r\nHost: test\r\n\r\n" % size)
        response = read_response(sock)
        if response is not None and response.status == 200 and response.body == body_pattern(size, seed=5):
            good += 1
        else:
            break
    sock.close()
    ledger.check("upstream closes keep-alive connections at random: 300 of 300 requests on one client "
                 "connection answered 200 with exact bodies", good == 300, f"{good} good")

    sock = connect(port)
    sock.sendall(b"GET /ok/10 HTTP/1.1\r\nHost: test\r\n\r\n")
    response = read_response(sock)
    sock.close()
    ledger.check("after all that, an ordinary request is answered 200", response is not None and response.status == 200)


def client_faults(ledger, attache, upstream):
    port = attache.port

    # Slow headers, but within --head-timeout: one byte every 20 ms (1.1 s in all).
    sock = connect(port)
    for byte in b"GET /ok/64 HTTP/1.1\r\nHost: test\r\nX-Slow: yes\r\n\r\n":
        sock.sendall(bytes([byte]))
        time.sleep(0.02)
    response = read_response(sock)
    sock.close()
    ledger.check("client sends its head one byte per 20 ms (inside the 2 s head timeout): 200",
                 response is not None and response.status == 200 and response.body == body_pattern(64))

    # Slower than --head-timeout: 408 and close.
    sock = connect(port)
    sock.sendall(b"GET /ok/1 HTTP/1.1\r\n")
    started = time.time()
    response = read_response(sock)
    elapsed = time.time() - started
    closed = closed_by_peer(sock)
    sock.close()
    ledger.check("client stops halfway through its head: 408 after the 2 s head timeout, then closed",
                 response is not None and response.status == 408 and 1.9 < elapsed < 3.5 and closed,
                 f"status {response and response.status}, {elapsed:.2f} s, closed {closed}")

    # Slow body: 64 bytes, one every 30 ms; the upstream echoes the body's sha256.
    body = body_pattern(64, seed=9)
    sock = connect(port)
    sock.sendall(b"POST /echo HTTP/1.1\r\nHost: test\r\nContent-Length: 64\r\n\r\n")
    for byte in body:
        sock.sendall(bytes([byte]))
        time.sleep(0.03)
    response = read_response(sock)
    sock.close()
    ledger.check("client sends its body one byte per 30 ms: the upstream receives it exactly (sha256)",
                 response is not None and response.status == 200
                 and response.body == hashlib.sha256(body).hexdigest().encode())

    # A client vanishes while its request is with the upstream: attache closes that upstream
    # connection at once. 50 of them, then no upstream connection is left open.
    before = upstream.hold_closed
    sockets = []
    for _ in range(50):
        sock = connect(port)
        sock.sendall(b"GET /hold HTTP/1.1\r\nHost: test\r\n\r\n")
        sockets.append(sock)
    time.sleep(0.5)
    for sock in sockets:
        sock.close()
    deadline = time.time() + 3
    while time.time() < deadline and upstream.hold_closed - before < 50:
        time.sleep(0.05)
    ledger.check("50 clients vanish mid-exchange: attache closes all 50 upstream connections within 3 s",
                 upstream.hold_closed - before == 50, f"{upstream.hold_closed - before} closed")

    # A client that vanishes mid-body (declared 1,000 bytes, sent 10).
    sock = connect(port)
    sock.sendall(b"POST /echo HTTP/1.1\r\nHost: test\r\nContent-Length: 1000\r\n\r\n0123456789")
    time.sleep(0.2)
    sock.close()
    time.sleep(0.5)
    response, kept = request(port, "/ok/5")
    ledger.check("client vanishes mid-body: attache carries on (next request 200)",
                 response is not None and response.status == 200 and attache.process.poll() is None)


def backpressure(ledger, attache, upstream):
    """A client reading 1 KiB/s while the upstream offers 100 MiB: attache's memory must not
    follow the upstream (growth under 10 MiB), and the upstream must be held back."""
    port = attache.port
    baseline = attache.rss_kib()
    sock = connect(port)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.sendall(b"GET /big/100 HTTP/1.1\r\nHost: test\r\n\r\n")
    received = 0
    peak = baseline
    started = time.time()
    while time.time() - started < 8:
        data = sock.recv(1024)
        if not data:
            break
        received += len(data)
        peak = max(peak, attache.rss_kib())
        time.sleep(1)
    sent = upstream.big_sent
    sock.close()
    growth = (peak - baseline) / 1024
    ledger.check("slow reader (1 KiB/s, 8 s) against a 100 MiB response: attache's RSS grows under 10 MiB",
                 growth < 10, f"baseline {baseline / 1024:.1f} MiB, peak {peak / 1024:.1f} MiB, growth {growth:.1f} MiB")
    ledger.check("slow reader: the upstream was held back (under 16 MiB of the 100 MiB written)",
                 sent < 16 * 1024 * 1024, f"upstream wrote {sent / 1048576:.1f} MiB, client read {received} bytes")
    deadline = time.time() + 3
    while time.time() < deadline and upstream.open_connections > 0 and upstream.big_sent < 100 * 1024 * 1024:
        time.sleep(0.1)
    response, _ = request(port, "/ok/5")
    ledger.check("slow reader gone: attache answers the next request", response is not None and response.status == 200)
    upload_backpressure(ledger, attache)


def upload_backpressure(ledger, attache):
    """The other direction: a client uploading 100 MiB as fast as it can to an upstream that
    reads nothing for 3 s. attache must stop reading from the client instead of buffering the
    upload, then pass all of it on, byte for byte, once the upstream reads again."""
    total = 100 * 1024 * 1024
    chunk = body_pattern(65536, seed=9)
    expected = hashlib.sha256()
    for _ in range(total // len(chunk)):
        expected.update(chunk)
    baseline = attache.rss_kib()
    peak = baseline
    sock = connect(attache.port, timeout=30)
    sock.sendall(b"POST /stall/3000 HTTP/1.1\r\nHost: test\r\nContent-Length: %d\r\n\r\n" % total)
    sock.setblocking(False)
    sent = 0
    started = time.time()
    while time.time() - started < 2.5 and sent < total:
        try:
            sent += sock.send(chunk[sent % len(chunk):])
        except BlockingIOError:
            peak = max(peak, attache.rss_kib())
            time.sleep(0.01)
    held = sent
    peak = max(peak, attache.rss_kib())
    sock.settimeout(30)
    offset = sent % len(chunk)
    if offset:
        sock.sendall(chunk[offset:])
        sent += len(chunk) - offset
    while sent < total:
        sock.sendall(chunk)
        sent += len(chunk)
    response = read_response(sock, timeout=30)
    sock.close()
    growth = (peak - baseline) / 1024
    ledger.check("slow upstream reader: a 100 MiB upload is held back while the upstream reads nothing "
                 "(under 24 MiB accepted in 2.5 s, attache's RSS grows under 10 MiB)",
                 held < 24 * 1024 * 1024 and growth < 10,
                 f"client got {held / 1048576:.1f} MiB out, RSS baseline {baseline / 1024:.1f} MiB, peak {peak / 1024:.1f} MiB")
    ledger.check("slow upstream reader: the whole upload then reaches the upstream intact (200, its sha256)",
                 response is not None and response.status == 200 and response.body == expected.hexdigest().encode(),
                 f"status {response and response.status}, body {response and response.body[:64]}")
