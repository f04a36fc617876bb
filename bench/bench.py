#!/usr/bin/env python3
"""attache against nginx and HAProxy, side by side, on 127.0.0.1 only (run by bench/run).

Contenders, one worker thread each, in front of the same upstream (one nginx worker serving a
small static page, 404 for anything else): the upstream directly (the ceiling), attache,
nginx proxy_pass, HAProxy in HTTP mode and HAProxy in TCP mode (a raw byte relay). Contenders
are pinned to CPU 1, wrk and the upstream to CPU 0, the same for every contender.

Scenarios: (a) the 404 rule only; (b) plus 10,000 rules that do not match; (c) record + log on
every request, logs to a file for every contender; (d) 1 MiB responses; (e) RSS with 1,000 idle
keep-alive connections; (f) time from process start to the first proxied response; (g) as (a),
each contender held to half a CPU by a cgroup's CFS quota, as a Kubernetes `limits.cpu: 500m`
holds a sidecar: with its CPU the limit, requests/s measure the proxy rather than the CPU wrk
and the upstream share (busy in every run of (a), see the tables' busy column); and user-space
instructions per proxied request under callgrind, for attache, nginx, HAProxy (both modes) and,
with --floor, a bare SwiftNIO byte relay (Benchmarks' nio-relay-floor): what SwiftNIO alone costs.
With --floor that relay is also a contender in (a): what any relay on SwiftNIO can reach.

Every run is bounded: wrk runs for --duration seconds, ab for a fixed request count.
"""

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "bench")
PORTS = {"upstream": 19080, "attache": 19081, "nginx": 19082, "haproxy": 19083, "haproxy-tcp": 19084,
         "floor": 19085, "admin": 19091}
CONTENDER_CPU = "1"
LOAD_CPU = "0"


def log(message):
    print(message, file=sys.stderr, flush=True)


def wait_for_port(port, seconds=20):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return True
        except OSError:
            time.sleep(0.01)
    return False


def render(template, destination, **values):
    with open(os.path.join(BENCH, template)) as handle:
        text = handle.read()
    for key, value in values.items():
        text = text.replace(f"@{key}@", str(value))
    with open(destination, "w") as handle:
        handle.write(text)
    return destination


def process_tree(pid):
    """A process and its children (nginx's master and worker)."""
    return [pid] + [int(child) for child in subprocess.run(
        ["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()]


def rss_kib(pid):
    """Resident memory of a process and its children."""
    total = 0
    for one in process_tree(pid):
        try:
            with open(f"/proc/{one}/status") as handle:
                for line in handle:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except FileNotFoundError:
            pass
    return total


def cpu_ticks(pid):
    """User and system CPU ticks (1/CLK_TCK s) of a process and its children, every thread
    included."""
    user = system = 0
    for one in process_tree(pid):
        try:
            with open(f"/proc/{one}/stat") as handle:
                # The command name (field 2) may hold spaces: count from the closing parenthesis.
                fields = handle.read().rsplit(")", 1)[1].split()
            user += int(fields[11])
            system += int(fields[12])
        except FileNotFoundError:
            pass
    return user, system


TICK_US = 1e6 / os.sysconf("SC_CLK_TCK")


def cpu_times():
    """Each CPU's busy, stolen and total time (ticks) from /proc/stat: busy is all but idle,
    iowait and steal; steal is time the hypervisor gave another guest."""
    times = {}
    with open("/proc/stat") as handle:
        for line in handle:
            name, *fields = line.split()
            if name.startswith("cpu") and name != "cpu":
                # user nice system idle iowait irq softirq steal (guest time is in user already)
                values = [int(value) for value in fields[:8]] + [0] * (8 - len(fields[:8]))
                total = sum(values)
                times[name[3:]] = (total - values[3] - values[4] - values[7], values[7], total)
    return times


def busy_percent(before, after, cpu):
    """How busy `cpu` was between two `cpu_times()`, in percent of its time."""
    busy = after[cpu][0] - before[cpu][0]
    total = after[cpu][2] - before[cpu][2]
    return 100 * busy / total if total else 0.0


def steal_percent(before, after):
    """Time stolen by the hypervisor across all CPUs, in percent."""
    stolen = sum(after[cpu][1] - before[cpu][1] for cpu in after)
    total = sum(after[cpu][2] - before[cpu][2] for cpu in after)
    return 100 * stolen / total if total else 0.0


class CPULimit:
    """A cgroup that holds the processes started in it to `share` of one CPU with the kernel's
    CFS bandwidth control: what a Kubernetes CPU limit is. cgroup v2's cpu.max where the cpu
    controller is there, else v1's cpu hierarchy. Raises OSError where neither can be written
    (not root, no cpu controller)."""

    PERIOD_US = 100_000

    def __init__(self, share, name="attache-bench"):
        quota = int(share * self.PERIOD_US)
        unified = "/sys/fs/cgroup"
        controllers = os.path.join(unified, "cgroup.controllers")
        controllers = open(controllers).read().split() if os.path.exists(controllers) else []
        if "cpu" in controllers:
            with open(os.path.join(unified, "cgroup.subtree_control"), "w") as handle:
                handle.write("+cpu")
            self.path = os.path.join(unified, name)
            os.makedirs(self.path, exist_ok=True)
            self._write("cpu.max", f"{quota} {self.PERIOD_US}")
        elif os.path.exists(os.path.join(unified, "cpu", "cpu.cfs_quota_us")):
            self.path = os.path.join(unified, "cpu", name)
            os.makedirs(self.path, exist_ok=True)
            self._write("cpu.cfs_period_us", self.PERIOD_US)
            self._write("cpu.cfs_quota_us", quota)
        else:
            # Not a directory made blindly under /sys/fs/cgroup: on cgroup v2 that is a new cgroup.
            raise OSError(f"no cgroup cpu controller under {unified}")

    def _write(self, control, value):
        with open(os.path.join(self.path, control), "w") as handle:
            handle.write(str(value))

    def wrap(self, command):
        """`command`, started inside the cgroup: the shell moves itself in, then execs it (the pid
        stays the one Popen returned; children inherit the cgroup)."""
        return ["sh", "-c", 'echo $$ > "$0" && exec "$@"', os.path.join(self.path, "cgroup.procs")] + command

    def remove(self):
        try:
            os.rmdir(self.path)
        except OSError:
            pass


class Bench:
    def __init__(self, options):
        self.options = options
        self.work = options.work
        os.makedirs(self.work, exist_ok=True)
        self.attache = options.attache
        self.processes = {}
        self.results = []
        self.notes = []
        # Set while scenario (g) runs: the cgroup contenders are started in.
        self.limit = None
        www = os.path.join(self.work, "www")
        os.makedirs(www, exist_ok=True)
        # The upstream's worker may run as another user (nginx started by root): it must be able
        # to read the page, whatever the umask or a `mktemp -d` work directory allowed.
        os.chmod(self.work, 0o755)
        os.chmod(www, 0o755)
        with open(os.path.join(www, "index.html"), "w") as handle:
            handle.write("<!doctype html>\n<html><head><title>bench</title></head><body>\n"
                         + "<p>The upstream's small static page.</p>\n" * 12 + "</body></html>\n")
        with open(os.path.join(www, "1m.bin"), "wb") as handle:
            handle.write(bytes(range(256)) * 4096)
        for page in ("index.html", "1m.bin"):
            os.chmod(os.path.join(www, page), 0o644)
        self.rules_10k = os.path.join(self.work, "rules-10k")
        os.makedirs(self.rules_10k, exist_ok=True)
        shutil.copy(os.path.join(BENCH, "rules/404/404.yaml"), self.rules_10k)
        with open(os.path.join(self.rules_10k, "zz-extra.yaml"), "w") as handle:
            handle.write("rules:\n")
            for index in range(10_000):
                handle.write(f"  - name: extra-{index}\n    when: {{ path: /svc{index}/** }}\n"
                             f"    respond: {{ status: 403, body: no }}\n")

    # --- processes ---------------------------------------------------------------------------

    def spawn(self, name, command, port, cpu=CONTENDER_CPU, stdout=None, stdin=None, limit=None):
        command = ["taskset", "-c", cpu] + command
        if limit is not None:
            command = limit.wrap(command)
        process = subprocess.Popen(command, stdout=stdout or subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL, stdin=stdin, start_new_session=True)
        if not wait_for_port(port):
            raise RuntimeError(f"{name} did not listen on {port}: {command}")
        self.processes[name] = process
        return process

    def stop(self, name):
        process = self.processes.pop(name, None)
        if process is None:
            return
        process.send_signal(signal.SIGINT if name.startswith("attache") else signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def stop_all(self):
        for name in list(self.processes):
            self.stop(name)

    def start_upstream(self):
        config = render("nginx-upstream.conf.in", os.path.join(self.work, "upstream.conf"), DIR=self.work,
                        UPSTREAM_PORT=PORTS["upstream"])
        self.spawn("upstream", ["nginx", "-c", config, "-p", self.work], PORTS["upstream"], cpu=LOAD_CPU)

    def attache_command(self, rules, extra=()):
        return [self.attache, "run", "--rules", rules, "--listen", f"127.0.0.1:{PORTS['attache']}",
                "--upstream", f"127.0.0.1:{PORTS['upstream']}", "--threads", "1", "--admin",
                f"127.0.0.1:{PORTS['admin']}", "--drain-delay", "0", "--no-watch", *extra]

    def start_contender(self, name, logging=False, rules=None):
        work = self.work
        if name == "attache":
            rules = rules or os.path.join(BENCH, "rules/logging" if logging else "rules/404")
            output = open(os.path.join(work, "attache-access.log"), "w") if logging else None
            self.spawn(name, self.attache_command(rules), PORTS["attache"], stdout=output, limit=self.limit)
        elif name == "nginx":
            access = (f"log_format bench '$request_method $uri $status $request_time $upstream_response_time';\n"
                      f"    access_log {work}/nginx-access.log bench buffer=64k flush=1s;") if logging else "access_log off;"
            config = render("nginx-proxy.conf.in", os.path.join(work, "proxy.conf"), DIR=work, PORT=PORTS["nginx"],
                            UPSTREAM_PORT=PORTS["upstream"], ACCESS_LOG=access)
            self.spawn(name, ["nginx", "-c", config, "-p", work], PORTS["nginx"], limit=self.limit)
        elif name == "haproxy":
            config = render(
                "haproxy-http.cfg.in", os.path.join(work, "haproxy.cfg"), PORT=PORTS["haproxy"],
                UPSTREAM_PORT=PORTS["upstream"],
                HAPROXY_LOG_GLOBAL="log stdout format raw local0" if logging else "",
                HAPROXY_LOG_DEFAULTS="log global\n    option httplog" if logging else "")
            output = open(os.path.join(work, "haproxy-access.log"), "w") if logging else None
            self.spawn(name, ["haproxy", "-f", config], PORTS["haproxy"], stdout=output, limit=self.limit)
        elif name == "haproxy-tcp":
            config = render("haproxy-tcp.cfg.in", os.path.join(work, "haproxy-tcp.cfg"), PORT=PORTS["haproxy-tcp"],
                            UPSTREAM_PORT=PORTS["upstream"])
            self.spawn(name, ["haproxy", "-f", config], PORTS["haproxy-tcp"], limit=self.limit)
        elif name == "nio-relay-floor":
            # It runs until its standard input ends (stopped with SIGTERM here).
            self.spawn(name, [self.options.floor, str(PORTS["floor"]), str(PORTS["upstream"])], PORTS["floor"],
                       stdin=subprocess.PIPE, limit=self.limit)
        elif name != "direct":
            raise ValueError(name)

    def port(self, name):
        return {"direct": PORTS["upstream"], "nio-relay-floor": PORTS["floor"]}.get(name) or PORTS[name]

    # --- measurements --------------------------------------------------------------------------

    def wrk(self, name, path, connections):
        url = f"http://127.0.0.1:{self.port(name)}{path}"
        result = subprocess.run(
            ["taskset", "-c", LOAD_CPU, "wrk", "-t1", f"-c{connections}", f"-d{self.options.duration}s",
             "--timeout", "5s", "-s", os.path.join(BENCH, "wrk-report.lua"), url],
            capture_output=True, text=True, timeout=self.options.duration + 60)
        line = [text for text in result.stdout.splitlines() if text.startswith("{")]
        if not line:
            raise RuntimeError(f"wrk against {name}: {result.stdout} {result.stderr}")
        return json.loads(line[-1])

    def throughput(self, scenario, contenders, paths, connection_counts, logging=False, rules=None):
        """Interleaved rounds: every contender once per round, for each path and connection count."""
        for name in contenders:
            self.start_contender(name, logging=logging, rules=rules)
        try:
            for round_number in range(1, self.options.rounds + 1):
                for path in paths:
                    for connections in connection_counts:
                        for name in contenders:
                            # The CPU the contender spent per request: unlike requests/s, it does
                            # not depend on how wrk and the upstream share the other CPU.
                            pid = self.processes["upstream" if name == "direct" else name].pid
                            user_before, system_before = cpu_ticks(pid)
                            cpus_before = cpu_times()
                            result = self.wrk(name, path, connections)
                            cpus_after = cpu_times()
                            user_after, system_after = cpu_ticks(pid)
                            requests = max(result["requests"], 1)
                            # How busy each CPU was: where the load CPU is near 100 %, requests/s
                            # are bounded by wrk and the upstream, not by the contender.
                            result.update(scenario=scenario, contender=name, path=path, connections=connections,
                                          round=round_number,
                                          user_us=(user_after - user_before) * TICK_US / requests,
                                          cpu_us=(user_after + system_after - user_before - system_before)
                                          * TICK_US / requests,
                                          load_busy=busy_percent(cpus_before, cpus_after, LOAD_CPU),
                                          contender_busy=busy_percent(cpus_before, cpus_after, CONTENDER_CPU),
                                          steal=steal_percent(cpus_before, cpus_after))
                            self.results.append(result)
                            log(f"{scenario} round {round_number} {name:15} {path:9} c{connections:<4} "
                                f"{result['rps']:9.0f} req/s  p50 {result['p50_us'] / 1000:6.2f} ms  "
                                f"p99 {result['p99_us'] / 1000:6.2f} ms  "
                                f"CPU {result['cpu_us']:5.2f} µs/req (user {result['user_us']:5.2f})  "
                                f"busy {result['load_busy']:3.0f} % / {result['contender_busy']:3.0f} %  "
                                f"steal {result['steal']:4.1f} %  errors {result['errors']}")
        finally:
            for name in contenders:
                self.stop(name)

    def limited(self, scenario, contenders, paths, connection_counts, share=0.5):
        """`throughput` with each contender held to `share` of a CPU (CPULimit). Where no cgroup
        can be made (not root, no cpu controller), the report says so and the rest goes on."""
        try:
            self.limit = CPULimit(share)
        except OSError as error:
            self.notes.append(f"({scenario}) not run: no cgroup to limit the contenders' CPU with ({error})")
            log(self.notes[-1])
            return
        try:
            self.throughput(scenario, contenders, paths, connection_counts)
        finally:
            self.limit.remove()
            self.limit = None

    def idle_rss(self, contenders, connections=1000):
        """RSS of each contender holding `connections` idle keep-alive connections."""
        for name in contenders:
            self.start_contender(name)
            pid = self.processes[name].pid
            # taskset execs the program, so the pid is the contender's own.
            sockets = []
            request = b"GET / HTTP/1.1\r\nHost: bench\r\n\r\n"
            for _ in range(connections):
                client = socket.create_connection(("127.0.0.1", self.port(name)))
                client.sendall(request)
                sockets.append(client)
            for client in sockets:
                client.settimeout(10)
                received = b""
                while b"</html>" not in received:
                    more = client.recv(65536)
                    if not more:
                        raise RuntimeError(f"{name} closed an idle-test connection: {received[:80]!r}")
                    received += more
            time.sleep(0.5)
            rss = rss_kib(pid)
            before_close = rss
            for client in sockets:
                client.close()
            self.results.append(dict(scenario="e", contender=name, connections=connections, rss_kib=before_close))
            log(f"e {name:12} RSS with {connections} idle keep-alive connections: {before_close / 1024:.1f} MiB")
            self.stop(name)

    def startup(self, contenders, attempts=5):
        """Milliseconds from exec to the first proxied 200."""
        for name in contenders:
            samples = []
            for _ in range(attempts):
                start = time.monotonic()
                self.start_contender(name)
                answer = b""
                while True:
                    # Bounded: a contender that never answers 200 (a broken upstream answers 403)
                    # fails the scenario instead of being asked forever.
                    if time.monotonic() - start > 30:
                        raise RuntimeError(f"{name} gave no 200 within 30 s; last answer {answer[:40]!r}")
                    try:
                        with socket.create_connection(("127.0.0.1", self.port(name)), timeout=1) as client:
                            client.sendall(b"GET / HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
                            answer = client.recv(64)
                            if answer.startswith(b"HTTP/1.1 200"):
                                break
                    except OSError:
                        pass
                    time.sleep(0.001)
                samples.append((time.monotonic() - start) * 1000)
                self.stop(name)
            self.results.append(dict(scenario="f", contender=name, startup_ms=statistics.median(samples)))
            log(f"f {name:12} start to first proxied response: median {statistics.median(samples):.1f} ms")

    def instructions(self, contenders, requests=20000):
        """User-space instructions per proxied request, by callgrind: (run - idle) / requests."""
        for name in contenders:
            command, port, stop = self.callgrind_target(name)
            totals = {}
            for label, count in (("idle", 0), ("load", requests)):
                out = os.path.join(self.work, f"callgrind.{name}.{label}")
                process = subprocess.Popen(
                    ["taskset", "-c", CONTENDER_CPU, "valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
                     *command], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                    start_new_session=True)
                if not wait_for_port(port, seconds=120):
                    raise RuntimeError(f"{name} under valgrind did not listen")
                if count:
                    subprocess.run(["taskset", "-c", LOAD_CPU, "ab", "-q", "-k", "-n", str(count), "-c", "16",
                                    f"http://127.0.0.1:{port}/"], capture_output=True, check=True, timeout=1200)
                if stop is None:
                    process.stdin.close()
                else:
                    process.send_signal(stop)
                process.wait(timeout=300)
                with open(out) as handle:
                    totals[label] = next(int(line.split()[1]) for line in handle if line.startswith("summary:")
                                         or line.startswith("totals:"))
            per_request = (totals["load"] - totals["idle"]) / requests
            self.results.append(dict(scenario="instructions", contender=name, instructions=per_request))
            log(f"instructions {name:16} {per_request:,.0f} per proxied request")

    def callgrind_target(self, name):
        """The command to run under valgrind, its port, and the signal that stops it (None: end stdin)."""
        if name == "attache":
            stripped = os.path.join(self.work, "attache-stripped")
            subprocess.run(["objcopy", "--strip-debug", self.attache, stripped], check=True)
            return [stripped] + self.attache_command(os.path.join(BENCH, "rules/404"))[1:], PORTS["attache"], \
                signal.SIGINT
        if name == "nio-relay-floor":
            stripped = os.path.join(self.work, "nio-relay-floor-stripped")
            subprocess.run(["objcopy", "--strip-debug", self.options.floor, stripped], check=True)
            return [stripped, str(PORTS["floor"]), str(PORTS["upstream"])], PORTS["floor"], None
        if name == "nginx":
            config = render("nginx-proxy.conf.in", os.path.join(self.work, "proxy-callgrind.conf"),
                            DIR=self.work, PORT=PORTS["nginx"], UPSTREAM_PORT=PORTS["upstream"],
                            ACCESS_LOG="access_log off;")
            with open(config) as handle:
                text = handle.read()
            with open(config, "w") as handle:
                handle.write("master_process off;\n" + text)
            return ["nginx", "-c", config, "-p", self.work], PORTS["nginx"], signal.SIGQUIT
        if name in ("haproxy", "haproxy-tcp"):
            # HAProxy without -W runs as one process; SIGUSR1 is its soft stop.
            self.start_contender(name)
            self.stop(name)
            config = os.path.join(self.work, "haproxy.cfg" if name == "haproxy" else "haproxy-tcp.cfg")
            return ["haproxy", "-f", config], PORTS[name], signal.SIGUSR1
        raise ValueError(name)

    # --- report --------------------------------------------------------------------------------

    def median(self, scenario, contender, path, connections, key):
        values = [r[key] for r in self.results if r.get("scenario") == scenario and r["contender"] == contender
                  and r.get("path") == path and r.get("connections") == connections]
        return statistics.median(values) if values else None

    def targets(self):
        """Issue 7's targets, each checked against this run's medians: (label, figures, met)."""
        rows = []

        def cells(scenario):
            """The (path, connections) pairs attache was measured at in `scenario`."""
            return sorted({(r["path"], r["connections"]) for r in self.results
                           if r.get("scenario") == scenario and r["contender"] == "attache"})

        def ratio(scenario, contender, path, connections, other, other_scenario=None):
            mine = self.median(scenario, contender, path, connections, "rps")
            theirs = self.median(other_scenario or scenario, other, path, connections, "rps")
            return (mine / theirs) if mine and theirs else None

        for scenario in ("a", "g"):
            label = "(a)" if scenario == "a" else "(g), as (a):"
            for path, connections in cells(scenario):
                where = f"`{path}` at {connections}"
                peers = [(name, self.median(scenario, name, path, connections, "rps")) for name in ("nginx", "haproxy")]
                peers = [(name, rps) for name, rps in peers if rps]
                if peers:
                    name, best = max(peers, key=lambda peer: peer[1])
                    value = self.median(scenario, "attache", path, connections, "rps") / best
                    rows.append((f"{label} ≥ 1.0× the better of nginx and HAProxy", f"{where}: {value:.2f}× {name}",
                                 value >= 1.0))
                value = ratio(scenario, "attache", path, connections, "haproxy-tcp")
                if value is not None:
                    rows.append((f"{label} ≥ 0.95× HAProxy `mode tcp`", f"{where}: {value:.2f}×", value >= 0.95))
                mine = self.median(scenario, "attache", path, connections, "p99_us")
                theirs = self.median(scenario, "nginx", path, connections, "p99_us")
                if mine and theirs:
                    rows.append((f"{label} p99 no worse than nginx",
                                 f"{where}: {mine / 1000:.2f} against {theirs / 1000:.2f} ms", mine <= theirs))
        instructions = {r["contender"]: r["instructions"] for r in self.results if r.get("scenario") == "instructions"}
        if "attache" in instructions and "nginx" in instructions:
            value = instructions["attache"] / instructions["nginx"]
            rows.append(("instructions ≤ 0.8× nginx", f"{instructions['attache']:,.0f} against "
                         f"{instructions['nginx']:,.0f}: {value:.2f}×", value <= 0.8))
        for scenario, limit in (("b", 0.05), ("c", 0.15)):
            for path, connections in cells(scenario):
                value = ratio(scenario, "attache", path, connections, "attache", other_scenario="a")
                if value is not None:
                    rows.append((f"({scenario}) within {limit:.0%} of (a)",
                                 f"`{path}` at {connections}: {value - 1:+.1%}", value >= 1 - limit))
        for path, connections in cells("d"):
            value = ratio("d", "attache", path, connections, "nginx")
            if value is not None:
                rows.append(("(d) ≥ nginx", f"{value:.2f}×", value >= 1.0))
        for scenario, key, bound, text in (("e", "rss_kib", 30 * 1024, "(e) ≤ 30 MiB"),
                                           ("f", "startup_ms", 100, "(f) ≤ 100 ms")):
            found = [r[key] for r in self.results if r.get("scenario") == scenario and r["contender"] == "attache"]
            if found:
                shown = f"{found[0] / 1024:.1f} MiB" if key == "rss_kib" else f"{found[0]:.1f} ms"
                rows.append((text, shown, found[0] <= bound))
        return rows

    def report(self):
        lines = [f"# attache benchmark, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}", "",
                 f"{os.cpu_count()} cores; one worker thread per contender (CPU {CONTENDER_CPU}), wrk and the "
                 f"upstream on CPU {LOAD_CPU}; wrk -t1, {self.options.duration} s per run, "
                 f"{self.options.rounds} interleaved rounds, medians. CPU µs/req: the contender's user + "
                 f"system CPU time per request (user time in brackets), from /proc; for direct, the "
                 f"upstream's, on the CPU it shares with wrk.", ""]
        steal = [r["steal"] for r in self.results if "steal" in r]
        if steal:
            lines += [f"Busy %: how busy the load CPU (wrk and the upstream) and the contender's CPU were "
                      f"during the run; near 100 % on the load CPU, requests/s are bounded by it rather than "
                      f"by the contender. Time stolen by the hypervisor: median {statistics.median(steal):.1f} %, "
                      f"at most {max(steal):.1f} % of a run.", ""]
        lines += [f"{note}" for note in self.notes] + ([""] if self.notes else [])
        tables = [("a", "(a) the 404 rule only"), ("b", "(b) plus 10,000 rules that do not match"),
                  ("c", "(c) record + log on every request, logs to files"), ("d", "(d) 1 MiB responses"),
                  ("g", "(g) as (a), each contender held to half a CPU (CFS quota, as Kubernetes "
                        "`limits.cpu: 500m`)")]
        for scenario, title in tables:
            rows = [r for r in self.results if r.get("scenario") == scenario]
            if not rows:
                continue
            lines += [f"## {title}", "",
                      "| path | conns | contender | req/s | p50 ms | p99 ms | × nginx | CPU µs/req (user) "
                      "| busy % load / contender | errors |",
                      "|---|---|---|---|---|---|---|---|---|---|"]
            keys = sorted({(r["path"], r["connections"]) for r in rows})
            for path, connections in keys:
                nginx = self.median(scenario, "nginx", path, connections, "rps") or self.median(
                    "a", "nginx", path, connections, "rps")
                for contender in dict.fromkeys(r["contender"] for r in rows):
                    rps = self.median(scenario, contender, path, connections, "rps")
                    if rps is None:
                        continue
                    p50 = self.median(scenario, contender, path, connections, "p50_us") / 1000
                    p99 = self.median(scenario, contender, path, connections, "p99_us") / 1000
                    errors = sum(r["errors"] for r in rows if r["contender"] == contender and r["path"] == path
                                 and r["connections"] == connections)
                    ratio = f"{rps / nginx:.2f}" if nginx else "–"
                    cpu = self.median(scenario, contender, path, connections, "cpu_us")
                    user = self.median(scenario, contender, path, connections, "user_us")
                    load = self.median(scenario, contender, path, connections, "load_busy")
                    busy = self.median(scenario, contender, path, connections, "contender_busy")
                    lines.append(f"| {path} | {connections} | {contender} | {rps:,.0f} | {p50:.2f} | {p99:.2f} | "
                                 f"{ratio} | {cpu:.1f} ({user:.1f}) | {load:.0f} / {busy:.0f} | {errors} |")
            lines.append("")
        for scenario, title, key, unit in [("e", "(e) RSS with 1,000 idle keep-alive connections", "rss_kib", "MiB"),
                                           ("f", "(f) start to first proxied response", "startup_ms", "ms"),
                                           ("instructions", "user-space instructions per proxied request "
                                            "(callgrind, ab -k -n 20000 -c 16, minus an idle run)", "instructions", "")]:
            rows = [r for r in self.results if r.get("scenario") == scenario]
            if not rows:
                continue
            if key == "instructions":
                nginx = next((r[key] for r in rows if r["contender"] == "nginx"), None)
                lines += [f"## {title}", "", "| contender | instructions | × nginx |", "|---|---|---|"]
                for r in rows:
                    ratio = f"{r[key] / nginx:.2f}" if nginx else "–"
                    lines.append(f"| {r['contender']} | {r[key]:,.0f} | {ratio} |")
                lines.append("")
                continue
            lines += [f"## {title}", "", "| contender | value |", "|---|---|"]
            for r in rows:
                value = r[key] / 1024 if key == "rss_kib" else r[key]
                lines.append(f"| {r['contender']} | {value:,.1f} {unit} |")
            lines.append("")
        targets = self.targets()
        if targets:
            lines += ["## Targets (issue 7), from this run's medians", "", "| target | this run | met |",
                      "|---|---|---|"]
            lines += [f"| {target} | {figures} | {'yes' if met else '**no**'} |" for target, figures, met in targets]
            lines.append("")
        return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--attache", required=True, help="the release binary")
    parser.add_argument("--floor", default=None,
                        help="Benchmarks' nio-relay-floor binary: SwiftNIO's own cost per relayed request")
    parser.add_argument("--work", default=os.path.join(tempfile.gettempdir(), "attache-bench"))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--scenarios", default="a,b,c,d,e,f,g,instructions")
    parser.add_argument("--output", default=None, help="write the markdown report here too")
    options = parser.parse_args()
    bench = Bench(options)
    scenarios = options.scenarios.split(",")
    all_contenders = ["direct", "attache", "nginx", "haproxy", "haproxy-tcp"]
    bench.start_upstream()
    failure = None
    try:
        if "a" in scenarios:
            # With --floor, SwiftNIO's bare byte relay too: what any relay on SwiftNIO can reach.
            bench.throughput("a", all_contenders + (["nio-relay-floor"] if options.floor else []),
                             ["/", "/missing"], [32, 256])
        if "b" in scenarios:
            bench.throughput("b", ["attache"], ["/", "/missing"], [32, 256], rules=bench.rules_10k)
        if "c" in scenarios:
            bench.throughput("c", ["attache", "nginx", "haproxy"], ["/"], [32, 256], logging=True)
        if "d" in scenarios:
            bench.throughput("d", ["direct", "attache", "nginx", "haproxy", "haproxy-tcp"], ["/1m.bin"], [32])
        if "g" in scenarios:
            bench.limited("g", ["attache", "nginx", "haproxy", "haproxy-tcp"]
                          + (["nio-relay-floor"] if options.floor else []), ["/", "/missing"], [32, 256])
        if "e" in scenarios:
            bench.idle_rss(["attache", "nginx", "haproxy"])
        if "f" in scenarios:
            bench.startup(["attache", "nginx", "haproxy"])
        if "instructions" in scenarios:
            bench.instructions(["nginx", "haproxy", "haproxy-tcp"]
                               + (["nio-relay-floor"] if options.floor else []) + ["attache"])
    except Exception as error:  # noqa: BLE001 — report what was measured, then fail
        failure = error
        log(f"a scenario failed, the report has what was measured before it: {error!r}")
    finally:
        bench.stop_all()
        bench.stop("upstream")
        subprocess.run(["pkill", "-f", f"nginx -c {bench.work}/upstream.conf"], capture_output=True)
    report = bench.report()
    print(report)
    if options.output:
        with open(options.output, "w") as handle:
            handle.write(report + "\n")
    with open(os.path.join(options.work, "results.json"), "w") as handle:
        json.dump(bench.results, handle, indent=1)
    if failure is not None:
        sys.exit(1)


if __name__ == "__main__":
    main()
