"""slowhttptest (Debian) in slowloris, slow-body and slow-read modes against attache. The tool
always exits 0, so the verdict comes from its CSV: the service must be available at every
sample (the CSV's "Service Available" column is 0 when slowhttptest's probe went unanswered for
-p seconds), and a fresh client must be answered right after the attack."""

import csv
import os
import shutil
import subprocess
import tempfile

from harness import Attache, FaultUpstream, raise_fd_limit, request

MODES = [
    # (name, flags): 800 connections at 200/s for 20 s.
    ("slowloris (-H: a header line every 5 s)", ["-H", "-i", "5", "-u", "{url}/ok/100"]),
    ("slow body (-B: 4 KiB declared, a few bytes every 5 s)", ["-B", "-i", "5", "-s", "4096", "-u", "{url}/echo"]),
    ("slow read (-X: 32-byte window, reads every 2 s)",
     ["-X", "-w", "16", "-y", "32", "-n", "2", "-z", "32", "-k", "3", "-u", "{url}/ok/262144"]),
]


def run(ledger, binary, rules):
    if shutil.which("slowhttptest") is None:
        ledger.check("slowhttptest is installed (apt-get install slowhttptest)", False)
        return
    raise_fd_limit(8192)
    upstream = FaultUpstream()
    attache = Attache(binary, upstream.port, rules)
    try:
        url = f"http://127.0.0.1:{attache.port}"
        for name, flags in MODES:
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
            response, _ = request(attache.port, "/ok/10")
            ledger.check(f"slowhttptest {name}: a fresh request right after is answered 200",
                         response is not None and response.status == 200)
            shutil.rmtree(work, ignore_errors=True)
        ledger.check("slowhttptest: attache is still running", attache.process.poll() is None)
    finally:
        attache.stop()
        upstream.stop()


def read_samples(path):
    try:
        with open(path, newline="") as report:
            return list(csv.DictReader(report))
    except OSError:
        return []
