"""Security checks against a running attache: the admin API never answers on the relay port;
body_file outside the rules directory is refused; no template puts CR/LF into a header; HTML and
JSON escaping hold for hostile paths and headers; a flood of 1,000,000 distinct paths leaves
memory bounded; Authorization and Cookie never reach the logs by default."""

import json
import os
import shutil
import socket
import subprocess
import tempfile
import time

from harness import Attache, FaultUpstream, connect, read_response, request

SAMPLES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "samples")

HOSTILE_RULES = """version: 1
rules:
  - name: echo-headers
    when: { path: "/echo/**" }
    respond:
      status: 200
      headers:
        x-path: "{{ request.path }}"
        x-target: "{{ request.target | raw }}"
        x-query: "{{ request.query | raw }}"
        x-agent: "{{ request.header.user-agent | raw }}"
        x-capture: "{{ path.rest | raw }}"
      body: "ok"
  - name: echo-json
    when: { path: "/json/**" }
    respond:
      status: 200
      headers: { content-type: application/json }
      body: '{"path": "{{ request.path }}", "agent": "{{ request.header.user-agent }}", "query": "{{ request.query }}"}'
  - name: flood
    when: { path: "/flood/**" }
    respond: { status: 200, body: "ok" }
  - name: per-path
    record: true
"""


def run(ledger, binary, rules):
    admin_not_on_relay(ledger, binary, rules)
    body_file_outside(ledger, binary)
    directory = tempfile.mkdtemp(prefix="attache-security-")
    with open(os.path.join(directory, "rules.yaml"), "w") as out:
        out.write(HOSTILE_RULES.replace('"/echo/**"', '"/echo/{rest}/**"'))
    upstream = FaultUpstream()
    attache = Attache(binary, upstream.port, directory)
    try:
        header_injection(ledger, attache)
        json_escaping(ledger, attache)
    finally:
        attache.stop()
    # The flood gets an attache of its own, so the key counts are exact.
    attache = Attache(binary, upstream.port, directory)
    try:
        flood(ledger, attache)
    finally:
        attache.stop()
        upstream.stop()
        shutil.rmtree(directory, ignore_errors=True)
    html_escaping_and_secrets(ledger, binary, rules)


def admin_not_on_relay(ledger, binary, rules):
    upstream = FaultUpstream()
    attache = Attache(binary, upstream.port, rules)
    try:
        answers = {}
        for path in ("/stats", "/metrics", "/rules", "/healthz", "/readyz", "/"):
            response, _ = request(attache.port, path)
            answers[path] = response.status if response else None
        reached = [path for path in ("/stats", "/metrics", "/rules", "/healthz", "/readyz", "/") if path in upstream.paths]
        ledger.check("security: admin paths on the relay port go to the service (its 404, as the friendly page)",
                     all(status == 404 for status in answers.values()) and len(reached) == 6,
                     f"statuses {answers}, reached the service: {reached}")
        status, _ = attache.admin("/stats")
        ledger.check("security: the admin port answers /stats itself", status == 200)
        admin = f"127.0.0.1:{attache.port}"
        result = subprocess.run([binary, "run", "--rules", rules, "--listen", admin, "--admin", admin],
                                capture_output=True, text=True, timeout=20)
        first = (result.stderr.strip().splitlines() or [""])[0]
        ledger.check("security: --admin on the relay's own address is refused (exit 64, a usage error)",
                     result.returncode == 64 and first == f"Error: --admin must not use the relay's port {attache.port}",
                     f"exit {result.returncode}: {first}")
    finally:
        attache.stop()
        upstream.stop()


def body_file_outside(ledger, binary):
    root = tempfile.mkdtemp(prefix="attache-bodyfile-")
    rules = os.path.join(root, "rules")
    os.mkdir(rules)
    with open(os.path.join(root, "secret.html"), "w") as out:
        out.write("secret")
    os.symlink(os.path.join(root, "secret.html"), os.path.join(rules, "link.html"))
    with open(os.path.join(rules, "rules.yaml"), "w") as out:
        out.write("version: 1\nrules:\n"
                  "  - name: a\n    when: { status: 404 }\n    respond: { body_file: ../secret.html }\n"
                  "  - name: b\n    when: { status: 410 }\n    respond: { body_file: /etc/passwd }\n"
                  "  - name: c\n    when: { status: 403 }\n    respond: { body_file: link.html }\n")
    result = subprocess.run([binary, "lint", rules], capture_output=True, text=True, timeout=20)
    refused = [line for line in result.stdout.splitlines() if "[A111]" in line]
    path = os.path.join(rules, "rules.yaml")
    ledger.check("security: body_file outside the rules directory (../, absolute, symlink out) is refused "
                 "by lint with file:line:col and A111",
                 result.returncode == 1 and len(refused) == 3
                 and [line.split(": ")[0] for line in refused] == [f"{path}:5:27", f"{path}:8:27", f"{path}:11:27"],
                 result.stdout.strip())
    result = subprocess.run([binary, "run", "--rules", rules, "--admin", "off", "--listen", "127.0.0.1:0"],
                            capture_output=True, text=True, timeout=20)
    ledger.check("security: run refuses the same rules and exits 1 without serving", result.returncode == 1,
                 f"exit {result.returncode}")
    shutil.rmtree(root, ignore_errors=True)


def raw_exchange(port, data):
    sock = connect(port)
    try:
        sock.sendall(data)
        sock.settimeout(5)
        received = b""
        while b"\r\n\r\n" not in received:
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
        return received
    finally:
        sock.close()


def header_injection(ledger, attache):
    # Percent-encoded CR LF in the path, the query and a capture; obs-text and a tab in a header.
    target = b"/echo/a%0d%0aSet-Cookie:%20x=1/b%0D%0A?q=%0d%0aX-Evil:%201"
    data = (b"GET " + target + b" HTTP/1.1\r\nHost: test\r\nUser-Agent: agent\t\xff%0d%0aX-Evil: 2\r\n\r\n")
    received = raw_exchange(attache.port, data)
    head = received.split(b"\r\n\r\n", 1)[0]
    lines = head.split(b"\r\n")
    names = [line.split(b":", 1)[0].lower() for line in lines[1:]]
    ledger.check("security: hostile path, query, capture and header values stay inside their header lines",
                 lines[0] == b"HTTP/1.1 200 OK" and b"set-cookie" not in names and b"x-evil" not in names
                 and all(b"\r" not in line and b"\n" not in line for line in lines)
                 and names.count(b"x-path") == 1 and names.count(b"x-agent") == 1,
                 repr(head[:400]))
    # A raw CR or LF can never reach a template: the request is refused first.
    for label, bad in (("CR", b"X-In: a\rb"), ("LF", b"X-In: a\nb"), ("NUL", b"X-In: a\x00b")):
        received = raw_exchange(attache.port, b"GET /echo/a/b HTTP/1.1\r\nHost: test\r\n" + bad + b"\r\n\r\n")
        ledger.check(f"security: a {label} inside a request header value is refused with 400",
                     received.startswith(b"HTTP/1.1 400 "), repr(received[:40]))


def json_escaping(ledger, attache):
    agent = 'x"}, "admin": true, "y": "\\u0000\\'
    sock = connect(attache.port)
    sock.sendall(b'GET /json/%22%7D%5C?a="b"\\c HTTP/1.1\r\nHost: test\r\nUser-Agent: ' + agent.encode()
                 + b"\r\n\r\n")
    response = read_response(sock)
    sock.close()
    try:
        document = json.loads(response.body)
    except (ValueError, AttributeError):
        document = None
    ledger.check("security: JSON escaping holds for a hostile path, query and User-Agent (the body parses, "
                 "values round-trip, no injected key)",
                 document is not None and sorted(document) == ["agent", "path", "query"]
                 and document["agent"] == agent and document["query"] == 'a="b"\\c',
                 repr(response.body if response else None))


def flood(ledger, attache):
    """1,000,000 distinct paths through a `record` rule keyed by path (max_keys 1,000), pipelined
    1,000 at a time on 4 connections."""
    total, batch = 1_000_000, 1000
    marker = b"HTTP/1.1 200 OK\r\n"
    connections = [socket.create_connection(("127.0.0.1", attache.port), timeout=30) for _ in range(4)]
    rss = {0: attache.rss_kib()}
    sent = answered = 0
    error = None
    started = time.time()
    try:
        while sent < total and time.time() - started < 300:
            for sock in connections:
                sock.sendall(b"".join(b"GET /flood/%d HTTP/1.1\r\nHost: t\r\n\r\n" % (sent + i) for i in range(batch)))
                sent += batch
            for sock in connections:
                got, tail = 0, b""
                while got < batch:
                    data = sock.recv(1 << 20)
                    if not data:
                        raise ConnectionError("attache closed a flood connection")
                    data = tail + data
                    got += data.count(marker)
                    tail = data[-(len(marker) - 1):]
                answered += got
            if sent in (100_000, 500_000):
                rss[sent] = attache.rss_kib()
    except OSError as caught:
        error = f"{caught} after {sent:,} sent, {answered:,} answered"
    rss[sent] = attache.rss_kib()
    elapsed = time.time() - started
    for sock in connections:
        sock.close()
    _, body = attache.admin("/stats?rule=per-path")
    stats = json.loads(body)["rules"]["per-path"]
    other = stats["keys"].get("(other)", {}).get("hits", 0)
    ledger.check("security: a flood of 1,000,000 distinct paths is answered in full",
                 answered == total and error is None, error or f"{answered:,} answered in {elapsed:.0f} s")
    ledger.check("security: the flood keeps 1,000 keys and counts the rest under (other)",
                 stats["keys_tracked"] == 1000 and other == answered - 1000 and stats["hits"] == answered,
                 f"{stats['keys_tracked']} keys, (other) {other:,}")
    report = ", ".join(f"{count:,} paths {kib / 1024:.1f} MiB" for count, kib in sorted(rss.items()))
    growth = (rss[sent] - rss.get(100_000, rss[0])) / 1024
    ledger.check("security: memory is bounded under the flood (under 4 MiB more from 100,000 to 1,000,000 paths)",
                 growth < 4 and sent == total, f"RSS {report}")


def html_escaping_and_secrets(ledger, binary, rules):
    upstream = FaultUpstream()
    attache = Attache(binary, upstream.port, rules, "--log-format", "json")
    try:
        sock = connect(attache.port)
        sock.sendall(b"GET /<script>alert(1)</script>?'\"& HTTP/1.1\r\nHost: test\r\n"
                     b"Authorization: Bearer SECRET-TOKEN-1\r\nCookie: session=SECRET-COOKIE-2\r\n\r\n")
        response = read_response(sock)
        sock.close()
        body = response.body if response else b""
        ledger.check("security: the friendly 404 page escapes a hostile path (no live markup)",
                     response is not None and response.status == 404
                     and b"GET /&lt;script&gt;alert(1)&lt;/script&gt; is not here." in body and b"<script>" not in body,
                     repr(body[-160:]))
        time.sleep(0.5)
        attache.stop()
        log = attache.output()
        ledger.check("security: Authorization and Cookie values never reach the access log by default",
                     "/<script>" in log and "SECRET-TOKEN-1" not in log and "SECRET-COOKIE-2" not in log,
                     f"{len(log.splitlines())} log lines")
    finally:
        attache.stop()
        upstream.stop()
