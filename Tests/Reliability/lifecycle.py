"""Load and lifecycle: under a constant wrk load, 10 rule reloads with no socket error and no
non-2xx response; then SIGTERM while slow requests are in flight: each completes, and attache
exits 0."""

import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time

from harness import Attache, FaultUpstream, connect, read_response

RULES = """version: 1
rules:
  - name: profile
    record: true
  - name: hidden
    when: {{ path: /never-{variant} }}
    respond: {{ status: 410, body: gone }}
"""


def run(ledger, binary, rules):
    if shutil.which("wrk") is None:
        ledger.check("wrk is installed (apt-get install wrk)", False)
        return
    directory = tempfile.mkdtemp(prefix="attache-lifecycle-")
    rules_file = os.path.join(directory, "rules.yaml")
    with open(rules_file, "w") as out:
        out.write(RULES.format(variant=0))
    upstream = FaultUpstream()
    attache = Attache(binary, upstream.port, directory, "--watch-interval", "0.2", "--drain-timeout", "20")
    try:
        reloads(ledger, attache, rules_file)
        drain(ledger, attache)
    finally:
        attache.stop(signal.SIGKILL)
        upstream.stop()
        shutil.rmtree(directory, ignore_errors=True)


def generation(attache):
    _, body = attache.admin("/rules")
    return json.loads(body)["generation"]


def reloads(ledger, attache, rules_file):
    wrk = subprocess.Popen(
        ["wrk", "-t1", "-c16", "-d14s", "--timeout", "5s", f"http://127.0.0.1:{attache.port}/ok/512"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    time.sleep(1.5)
    first = generation(attache)
    done = 0
    for variant in range(1, 11):
        with open(rules_file + ".tmp", "w") as out:
            out.write(RULES.format(variant=variant))
        os.rename(rules_file + ".tmp", rules_file)
        deadline = time.time() + 3
        while time.time() < deadline and generation(attache) < first + variant:
            time.sleep(0.05)
        if generation(attache) == first + variant:
            done += 1
        time.sleep(0.6)
    output, _ = wrk.communicate(timeout=60)
    requests = int(re.search(r"(\d+) requests in", output).group(1)) if "requests in" in output else 0
    errors = re.search(r"Socket errors: (.*)", output)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    ledger.check("lifecycle: 10 reloads under wrk load, each visible in /rules within 3 s", done == 10,
                 f"{done} of 10")
    ledger.check("lifecycle: no socket errors during the reloads", errors is None and requests > 1000,
                 f"{requests} requests, {errors.group(1) if errors else 'no errors'}")
    ledger.check("lifecycle: no non-2xx responses during the reloads", non2xx is None and requests > 1000,
                 f"{non2xx.group(1) if non2xx else 0} non-2xx of {requests}")


def drain(ledger, attache):
    results = []
    lock = threading.Lock()

    def slow_request():
        try:
            sock = connect(attache.port, timeout=30)
            sock.sendall(b"GET /delay/3000 HTTP/1.1\r\nHost: test\r\n\r\n")
            response = read_response(sock, timeout=30)
            sock.close()
        except OSError as error:
            response = error
        with lock:
            results.append(response)

    threads = [threading.Thread(target=slow_request) for _ in range(8)]
    for thread in threads:
        thread.start()
    time.sleep(0.8)
    attache.process.send_signal(signal.SIGTERM)
    started = time.time()
    for thread in threads:
        thread.join(timeout=30)
    try:
        code = attache.process.wait(timeout=25)
    except subprocess.TimeoutExpired:
        code = None
    elapsed = time.time() - started
    completed = [r for r in results if not isinstance(r, Exception) and r is not None and r.status == 200
                 and r.body == b"late" and (r.field("connection") or "").lower() == "close"]
    ledger.check("lifecycle: SIGTERM with 8 slow requests in flight: all 8 complete with 200 and "
                 "Connection: close", len(completed) == 8,
                 f"{len(completed)} of {len(results)} complete: {[getattr(r, 'status', r) for r in results]}")
    ledger.check("lifecycle: attache exits 0 once they are done (about 2.2 s after SIGTERM)",
                 code == 0 and 1.5 < elapsed < 10, f"exit {code} after {elapsed:.1f} s")
