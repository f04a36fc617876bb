"""slowhttptest (Debian) in slowloris, slow-body and slow-read modes against attache, in front of
nginx (one worker, static files): a Python upstream with a thread per connection was itself too
slow to answer the probe while 800 slow readers held it. The tool
always exits 0, so the verdict comes from its CSV: the service must be available at every
sample (the CSV's "Service Available" column is 0 when slowhttptest's probe went unanswered for
-p seconds), and a fresh client must be answered right after the attack."""

import csv
import os
import shutil
import subprocess
import tempfile

from harness import Attache, FaultUpstream, free_port, raise_fd_limit, request

MODES = [
    # (name, flags): 800 connections at 200/s for 20 s.
    ("slowloris (-H: a header line every 5 s)", ["-H", "-i", "5", "-u", "{url}/small.txt"]),
    ("slow body (-B: 4 KiB declared, a few bytes every 5 s, to an upstream that reads it all)",
     ["-B", "-i", "5", "-s", "4096", "-u", "{url}/echo"]),
    ("slow read (-X: 32-byte window, reads every 2 s)",
     ["-X", "-w", "16", "-y", "32", "-n", "2", "-z", "32", "-k", "3", "-u", "{url}/big.bin"]),
]

NGINX_CONF = """
worker_processes 1;
pid {root}/nginx.pid;
error_log {root}/error.log;
events {{ worker_connections 8192; }}
http {{
    access_log off;
    client_body_temp_path {root}/body;
    server {{
        listen 127.0.0.1:{port};
        root {root}/www;
        location = /echo {{ return 200 "ok"; }}
    }}
}}
"""


class Nginx:
    """nginx as the upstream: one worker serving `small.txt` (100 bytes) and `big.bin` (256 KiB)."""

    def __init__(self):
        self.root = tempfile.mkdtemp(prefix="attache-slowhttp-nginx-")
        os.makedirs(os.path.join(self.root, "www"))
        # nginx's worker runs as an unprivileged user when started as root: it must read these.
        os.chmod(self.root, 0o755)
        os.chmod(os.path.join(self.root, "www"), 0o755)
        with open(os.path.join(self.root, "www", "small.txt"), "wb") as out:
            out.write(b"s" * 100)
        with open(os.path.join(self.root, "www", "big.bin"), "wb") as out:
            out.write(b"b" * 262144)
        self.port = free_port()
        with open(os.path.join(self.root, "nginx.conf"), "w") as out:
            out.write(NGINX_CONF.format(root=self.root, port=self.port))
        subprocess.run(["nginx", "-c", os.path.join(self.root, "nginx.conf"), "-p", self.root], check=True,
                       capture_output=True, timeout=20)

    def stop(self):
        subprocess.run(["nginx", "-s", "stop", "-c", os.path.join(self.root, "nginx.conf"), "-p", self.root],
                       capture_output=True, timeout=20)
        shutil.rmtree(self.root, ignore_errors=True)


def run(ledger, binary, rules):
    if shutil.which("slowhttptest") is None or shutil.which("nginx") is None:
        ledger.check("slowhttptest and nginx are installed (apt-get install slowhttptest nginx-light)", False)
        return
    raise_fd_limit(8192)
    upstream = Nginx()
    # nginx answers `return 200` before the body is in; the slow-body mode needs an upstream that
    # waits for the whole body, so that one goes to the Python upstream's /echo.
    reader = FaultUpstream()
    # As deployed: one event loop per core. With a single loop (and the debug build CI runs),
    # the probe went unanswered for 3-4 s right after the 800 slow readers were connected in 3
    # of 9 runs, while their first responses were being pushed into socket buffers; with one loop
    # per core, in none of the runs so far.
    attache = Attache(binary, upstream.port, rules, threads=None)
    body_attache = Attache(binary, reader.port, rules, threads=None)
    try:
        for name, flags in MODES:
            target = body_attache if "-B" in flags else attache
            url = f"http://127.0.0.1:{target.port}"
            work = tempfile.mkdtemp(prefix="slowhttptest-")
            prefix = os.path.join(work, "report")
            arguments = ["slowhttptest", "-c", "800", "-r", "200", "-l", "20", "-p", "3", "-g", "-o", prefix]
            arguments += [flag.format(url=url) for flag in flags]
            subprocess.run(arguments, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=90)
            samples = read_samples(prefix + ".csv")
            # The column holds the connection count while the probe is answered, 0 when it is not.
            unavailable = [row for row in samples if row["Service Available"].strip() in ("", "0")]
            peak = max((int(row["Connected"]) for row in samples), default=0)
            ledger.check(f"slowhttptest {name}: the service was available at all {len(samples)} samples",
                         len(samples) >= 15 and not unavailable,
                         f"{len(unavailable)} unavailable (at seconds {[row['Seconds'] for row in unavailable]}), "
                         f"peak {peak} attack connections open")
            response, _ = request(target.port, "/ok/10" if target is body_attache else "/small.txt")
            ledger.check(f"slowhttptest {name}: a fresh request right after is answered 200",
                         response is not None and response.status == 200)
            shutil.rmtree(work, ignore_errors=True)
        ledger.check("slowhttptest: attache is still running",
                     attache.process.poll() is None and body_attache.process.poll() is None)
    finally:
        attache.stop()
        body_attache.stop()
        upstream.stop()
        reader.stop()


def read_samples(path):
    try:
        with open(path, newline="") as report:
            return list(csv.DictReader(report))
    except OSError:
        return []
