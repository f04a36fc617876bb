"""Shared pieces of the reliability suite: the attache process, a scriptable upstream, a raw
HTTP/1.1 client and the pass/fail ledger. Everything binds to 127.0.0.1 only."""

import hashlib
import os
import random
import resource
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time
import urllib.request


class Ledger:
    """Counts checks; each prints one line so a CI log reads like the suite's report."""

    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.failures = []

    def check(self, name, condition, detail=""):
        if condition:
            self.passed += 1
            print(f"ok      {name}" + (f" ({detail})" if detail else ""), flush=True)
        else:
            self.failed += 1
            self.failures.append(name)
            print(f"FAILED  {name}" + (f": {detail}" if detail else ""), flush=True)
        return condition

    def skip(self, name, reason):
        print(f"skipped {name}: {reason}", flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def raise_fd_limit(wanted):
    """Raises this process's open-file limit (children inherit it); returns the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < wanted:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, wanted))  # root may raise the hard limit
            return wanted
        except (ValueError, OSError):
            wanted = hard
    resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    return wanted


def body_pattern(length, seed=0):
    """Deterministic, non-repeating-looking bytes of the given length."""
    block = hashlib.sha256(str(seed).encode()).digest() * 128  # 4 KiB
    whole, rest = divmod(length, len(block))
    return block * whole + block[:rest]


def reset(sock):
    """Closes with RST instead of FIN."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    sock.close()


# ---------------------------------------------------------------------------------------------
# The upstream


class FaultUpstream:
    """A threaded HTTP/1.1 server whose behaviour is chosen by the request path:

      /ok/N            200 with N pattern bytes (Content-Length), keep-alive
      /delay/MS        200 "late" after MS milliseconds
      /reset-head      part of a status line and header, then RST
      /reset-body      200 declaring 100,000 bytes, 40,000 sent, then RST
      /trickle         a whole 200 response written one byte at a time
      /garbage         a status line that is not HTTP
      /huge-head       a 200 whose header block is 80 KiB
      /flaky/N         200 with N bytes; then closes the connection half the time, silently
      /big/N           200 with N MiB, counting what the socket accepted
      /echo            200 with the sha256 of the request body
      /stall/MS        reads nothing of the body for MS milliseconds, then all of it (hashing
                       as it goes, never holding it), and answers 200 with its sha256
      /hold            never answers; notes when attache closes the connection
    """

    def __init__(self, seed=7):
        self.port = free_port()
        self.random = random.Random(seed)
        self.lock = threading.Lock()
        self.open_connections = 0
        self.requests = 0
        self.paths = []
        self.big_sent = 0
        self.hold_closed = 0
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", self.port))
        self.listener.listen(1024)
        self.stopped = False
        threading.Thread(target=self._accept, daemon=True).start()

    def stop(self):
        self.stopped = True
        self.listener.close()

    def _accept(self):
        while not self.stopped:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        with self.lock:
            self.open_connections += 1
        buffer = b""
        try:
            while True:
                while b"\r\n\r\n" not in buffer:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buffer += data
                head, buffer = buffer.split(b"\r\n\r\n", 1)
                lines = head.decode("latin-1").split("\r\n")
                path = lines[0].split(" ")[1]
                fields = {}
                for line in lines[1:]:
                    name, _, value = line.partition(":")
                    fields[name.strip().lower()] = value.strip()
                length = int(fields.get("content-length", "0"))
                if path.startswith("/stall/"):
                    buffer = self._stalled_upload(conn, int(path.split("/")[2]), length, buffer)
                    if buffer is None:
                        return
                    continue
                while len(buffer) < length:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buffer += data
                body, buffer = buffer[:length], buffer[length:]
                with self.lock:
                    self.requests += 1
                    self.paths.append(path)
                if not self._respond(conn, path, body):
                    return
        except OSError:
            pass
        finally:
            with self.lock:
                self.open_connections -= 1
            try:
                conn.close()
            except OSError:
                pass

    def _stalled_upload(self, conn, milliseconds, length, buffer):
        """Leaves the body in the socket for a while, then hashes it as it arrives; returns what
        follows it, or None if the connection ended first."""
        time.sleep(milliseconds / 1000)
        digest = hashlib.sha256()
        taken = min(len(buffer), length)
        digest.update(buffer[:taken])
        rest, remaining = buffer[taken:], length - taken
        while remaining > 0:
            data = conn.recv(min(remaining, 1 << 20))
            if not data:
                return None
            digest.update(data)
            remaining -= len(data)
        with self.lock:
            self.requests += 1
        conn.sendall(self._ok(digest.hexdigest().encode()))
        return rest

    @staticmethod
    def _ok(body, extra=b""):
        return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n%s\r\n" % (len(body), extra) + body

    def _respond(self, conn, path, body):
        """Answers one request; False ends the connection (already closed or reset)."""
        parts = path.split("/")
        kind = parts[1] if len(parts) > 1 else ""
        if kind == "ok":
            conn.sendall(self._ok(body_pattern(int(parts[2]))))
        elif kind == "delay":
            time.sleep(int(parts[2]) / 1000)
            conn.sendall(self._ok(b"late"))
        elif kind == "reset-head":
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Ty")
            time.sleep(0.05)
            reset(conn)
            return False
        elif kind == "reset-body":
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + body_pattern(40000))
            time.sleep(0.05)
            reset(conn)
            return False
        elif kind == "trickle":
            for byte in self._ok(body_pattern(200, seed=3)):
                conn.sendall(bytes([byte]))
                time.sleep(0.002)
        elif kind == "garbage":
            conn.sendall(b"HTTP/1.1 2x0 Fine\r\nContent-Length: 2\r\n\r\nok")
        elif kind == "huge-head":
            conn.sendall(self._ok(b"big head", b"X-Filler: " + b"f" * (80 * 1024) + b"\r\n"))
        elif kind == "flaky":
            conn.sendall(self._ok(body_pattern(int(parts[2]), seed=5)))
            with self.lock:
                close = self.random.random() < 0.5
            if close:
                conn.close()
                return False
        elif kind == "big":
            total = int(parts[2]) * 1024 * 1024
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % total)
            chunk = body_pattern(65536)
            sent = 0
            while sent < total:
                conn.sendall(chunk)
                sent += len(chunk)
                with self.lock:
                    self.big_sent = sent
        elif kind == "echo":
            conn.sendall(self._ok(hashlib.sha256(body).hexdigest().encode()))
        elif kind == "hold":
            conn.settimeout(10)
            try:
                data = conn.recv(1)
            except OSError:
                data = b"?"
            if not data:
                with self.lock:
                    self.hold_closed += 1
            return False
        else:
            conn.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found")
        return True


# ---------------------------------------------------------------------------------------------
# attache


class Attache:
    """attache as a process: `run` with the given flags, stdout and stderr to a log file. One
    event-loop thread unless `threads` says otherwise (None: attache's default, one per core)."""

    def __init__(self, binary, upstream_port, rules, *flags, admin=True, threads=1):
        self.port = free_port()
        self.admin_port = free_port() if admin else None
        self.log = tempfile.NamedTemporaryFile(prefix="attache-", suffix=".log", delete=False)
        arguments = [
            binary, "run", "--rules", rules, "--listen", f"127.0.0.1:{self.port}",
            "--upstream", f"127.0.0.1:{upstream_port}", "--drain-delay", "0",
            *(["--threads", str(threads)] if threads else []),
            "--admin", f"127.0.0.1:{self.admin_port}" if admin else "off", *flags,
        ]
        self.process = subprocess.Popen(arguments, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if self.process.poll() is not None:
                    break
                time.sleep(0.05)
        raise RuntimeError(f"attache did not start: {self.output()}")

    def rss_kib(self):
        with open(f"/proc/{self.process.pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def open_fds(self):
        return len(os.listdir(f"/proc/{self.process.pid}/fd"))

    def admin(self, path):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.admin_port}{path}", timeout=5) as response:
            return response.status, response.read()

    def output(self):
        with open(self.log.name, "rb") as log:
            return log.read().decode("utf-8", "replace")

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()


# ---------------------------------------------------------------------------------------------
# A raw client


class Response:
    def __init__(self, status, fields, body, complete):
        self.status = status
        self.fields = fields  # list of (lower-cased name, value)
        self.body = body
        self.complete = complete  # the declared length arrived (or chunked ended)

    def field(self, name):
        for key, value in self.fields:
            if key == name:
                return value
        return None


def read_response(sock, head_request=False, timeout=10):
    """Reads one response; returns a Response, or None when the connection closed first."""
    sock.settimeout(timeout)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, rest = data.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    fields = []
    for line in lines[1:]:
        name, _, value = line.partition(":")
        fields.append((name.strip().lower(), value.strip()))
    response = Response(status, fields, b"", True)
    if head_request or status in (204, 304) or 100 <= status < 200:
        sock.pending = rest
        return response
    length = response.field("content-length")
    if length is not None:
        length = int(length)
        while len(rest) < length:
            try:
                chunk = sock.recv(min(1 << 20, length - len(rest)))
            except OSError:
                chunk = b""
            if not chunk:
                response.complete = False
                break
            rest += chunk
        response.body, sock.pending = rest[:length], rest[length:]
        return response
    if (response.field("transfer-encoding") or "").lower() == "chunked":
        body = b""
        while True:
            while b"\r\n" not in rest:
                chunk = sock.recv(65536)
                if not chunk:
                    response.complete = False
                    response.body = body
                    return response
                rest += chunk
            size_line, rest = rest.split(b"\r\n", 1)
            size = int(size_line.split(b";")[0], 16)
            while len(rest) < size + 2:
                chunk = sock.recv(65536)
                if not chunk:
                    response.complete = False
                    response.body = body + rest
                    return response
                rest += chunk
            if size == 0:
                sock.pending = rest[2:]
                response.body = body
                return response
            body += rest[:size]
            rest = rest[size + 2:]
    while True:  # close-delimited
        chunk = sock.recv(65536)
        if not chunk:
            break
        rest += chunk
    response.body = rest
    return response


class PendingSocket(socket.socket):
    """A socket that keeps bytes read past the end of a response."""

    pending = b""


def connect(port, timeout=10):
    sock = PendingSocket(socket.AF_INET, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    sock.connect(("127.0.0.1", port))
    return sock


def request(port, path, method="GET", body=b"", extra=""):
    """One request on a new connection; returns (Response or None, whether the connection then
    closed before a second request on it could be answered)."""
    sock = connect(port)
    try:
        head = f"{method} {path} HTTP/1.1\r\nHost: test\r\n{extra}"
        if body or method in ("POST", "PUT"):
            head += f"Content-Length: {len(body)}\r\n"
        sock.sendall(head.encode() + b"\r\n" + body)
        response = read_response(sock, head_request=method == "HEAD")
        kept = False
        if response is not None and response.complete:
            try:
                sock.sendall(b"GET /ok/1 HTTP/1.1\r\nHost: test\r\n\r\n")
                second = read_response(sock, timeout=5)
                kept = second is not None and second.status == 200
            except OSError:
                kept = False
        return response, kept
    finally:
        sock.close()


def closed_by_peer(sock, timeout=5):
    """True when the peer closes (FIN or RST) within the timeout without sending anything."""
    sock.settimeout(timeout)
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False
