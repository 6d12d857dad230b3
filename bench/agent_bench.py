#!/usr/bin/env python3
"""Whole-process benchmarks of the built Sonde agent (dist/target/sonde).

    python3 bench/agent_bench.py launch [--runs 7]
    python3 bench/agent_bench.py layers [--runs 3] [--idle-seconds 15]
    python3 bench/agent_bench.py scale [--targets 100,1000,10000] [--interval-ms 10000] [--seconds 60] [--dist A,B --rounds 2]
    python3 bench/agent_bench.py peer  [--targets 100,1000,10000] [--interval-ms 10000] [--seconds 60]
    python3 bench/agent_bench.py icmp  [--targets 10000] [--interval-ms 10000] [--seconds 60]
    python3 bench/agent_bench.py traceroute [--targets 1000] [--interval-ms 60000] [--seconds 120] [--flows 8]   (root)
    python3 bench/agent_bench.py http  [--targets 1000] [--interval-ms 10000] [--seconds 60]
    python3 bench/agent_bench.py probe [--targets 1000] [--interval-ms 10000] [--seconds 60]
    python3 bench/agent_bench.py uplink [--targets 10000] [--interval-ms 10000] [--seconds 60] [--rounds 2]

launch: time from exec of bin/sonde to the first probe result on /metrics, and idle RSS with the
        shipped configuration (one target), over several runs; medians are reported.
scale:  N TCP targets on loopback listeners that accept and close, at a fixed interval. After a
        warm-up of one interval it measures over a window: the agent's RSS, its CPU (utime+stime
        from /proc), scheduler lateness p99 and skipped turns (from its own histogram and counter),
        and how long /metrics takes to render.
icmp:   N ICMP targets on loopback addresses, one echo each per interval, then fping (Debian
        package) with the same list at the same pace: CPU per echo, replies, mean RTT.
peer:   the same probes through prometheus-blackbox-exporter (Debian package), driven the way
        Prometheus drives it: one /probe request per target per interval; its CPU and RSS.
http:   N HTTP targets on a loopback server (a JSON body), a fresh connection per probe: the agent's CPU, with
        --checks each asserting on the JSON body and a header; then
        one URL every 100 ms against curl's time_total, medians compared.
uplink: N TCP targets without and then with the uplink to a server (bench/server_bench.py's), alternated
        over rounds in one run: the uplink's CPU and RSS cost, skipped turns, sink drops.
layers: idle RSS of a sleeping JVM with the launcher's flags, then of the agent built up bundle by
        bundle (framework, SCR and ConfigAdmin, core, exporter, uplink, plugins): where the memory goes.
probe:  the peer mode's load against Sonde's /probe and then blackbox_exporter's, in one run: CPU per
        probe, RSS, and the request latency a scraper sees.

Traffic stays on 127.0.0.0/8 (traceroute: the lab's namespaces). Every loop is bounded; the agent
and listeners are stopped by PID and closed at the end.
"""
import argparse
import json
import os
import selectors
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DIST = os.path.join(ROOT, "dist", "target", "sonde")
TICK = os.sysconf("SC_CLK_TCK")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Agent:
    """A copy of the distribution, started with bin/sonde, exporter on a free loopback port."""

    def __init__(self, targets=None, interval_ms=10000, java_opts=None, uplink=None, keep=None, dist=None, agent_id=None):
        self.home = tempfile.mkdtemp(prefix="sonde-bench-")
        shutil.copytree(dist or DIST, self.home, dirs_exist_ok=True, symlinks=True)
        if keep is not None:  # only the bundles whose file name starts with one of these
            for d in ("system", "plugins"):
                for jar in os.listdir(os.path.join(self.home, d)):
                    if jar.endswith(".jar") and not jar.startswith(tuple(keep)):
                        os.remove(os.path.join(self.home, d, jar))
        self.port = free_port()
        etc = os.path.join(self.home, "etc")
        if uplink:
            with open(os.path.join(etc, "io.sonde.uplink.cfg"), "w") as f:
                f.write(uplink)
        with open(os.path.join(etc, "io.sonde.exporter.cfg"), "w") as f:
            f.write(f"port = {self.port}\nbind = 127.0.0.1\n")
        self_cfg = os.path.join(etc, "io.sonde.target-self.cfg")
        with open(self_cfg) as f:
            text = f.read().replace("port = 9100", f"port = {self.port}")
        with open(self_cfg, "w") as f:
            f.write(text)
        if targets is not None:
            os.remove(self_cfg)
            with open(os.path.join(etc, "targets.json"), "w") as f:
                json.dump({"probe_interval_ms": interval_ms, "default_timeout_ms": 2000, "targets": targets}, f)
            agent_cfg = os.path.join(etc, "io.sonde.agent.cfg")
            with open(agent_cfg) as f:
                text = f.read().replace("targets_file =", "targets_file = etc/targets.json", 1)
            with open(agent_cfg, "w") as f:
                f.write(text)
        if agent_id:  # each run its own identity: a server refuses a second enrollment of an enrolled id
            agent_cfg = os.path.join(etc, "io.sonde.agent.cfg")
            with open(agent_cfg) as f:
                text = f.read().replace("\nagent_id =\n", f"\nagent_id = {agent_id}\n", 1)
            with open(agent_cfg, "w") as f:
                f.write(text)
        env = dict(os.environ)
        if java_opts:
            env["JAVA_OPTS"] = java_opts
        self.log = open(os.path.join(self.home, "console.log"), "w")
        self.t0 = time.monotonic()
        self.proc = subprocess.Popen([os.path.join(self.home, "bin", "sonde")], stdout=self.log,
                                     stderr=subprocess.STDOUT, env=env)

    def metrics(self, timeout=10):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=timeout) as r:
            return r.read().decode()

    def wait_for(self, predicate, seconds=60, poll=0.01):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("agent exited; see " + self.log.name)
            try:
                m = self.metrics()
                if predicate(m):
                    return m
            except OSError:
                pass
            time.sleep(poll)
        raise TimeoutError("condition not met in %d s" % seconds)

    def rss_mb(self):
        return proc_rss_mb(self.proc.pid)

    def cpu_seconds(self):
        return proc_cpu(self.proc.pid)

    def cpu_split(self):
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) / TICK, int(fields[12]) / TICK

    def measure(self, seconds):
        """/metrics before and after a window of `seconds`, and the agent's CPU seconds and wall
        seconds in it."""
        m0 = self.metrics()
        c0, t0 = self.cpu_seconds(), time.monotonic()
        time.sleep(seconds)
        c1, t1 = self.cpu_seconds(), time.monotonic()
        return m0, self.metrics(), c1 - c0, t1 - t0

    def stop(self):
        terminate(self.proc)
        self.log.close()
        shutil.rmtree(self.home, ignore_errors=True)


def terminate(proc):
    """SIGTERM to a process we started, then SIGKILL if it has not ended within 10 s."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


class Listeners:
    """Loopback listeners on 127.0.0.1..127.0.0.N, one port, accepting and closing in one thread."""

    def __init__(self, addresses=8):
        self.addresses = [f"127.0.{1 + i // 250}.{1 + i % 250}" for i in range(addresses)]
        self.port = free_port()
        self.sel = selectors.DefaultSelector()
        self.socks = []
        for address in self.addresses:
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((address, self.port))
            s.listen(4096)
            s.setblocking(False)
            self.sel.register(s, selectors.EVENT_READ)
            self.socks.append(s)
        self.accepted = 0
        self.running = True
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def loop(self):
        while self.running:
            for key, _ in self.sel.select(0.2):
                for _ in range(64):
                    try:
                        c, _ = key.fileobj.accept()
                    except BlockingIOError:
                        break
                    c.close()
                    self.accepted += 1

    def close(self):
        self.running = False
        self.thread.join(2)
        for s in self.socks:
            s.close()


def sample(metrics, name):
    for line in metrics.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    return float("nan")


def total(metrics, name):
    """The sum of a family's samples over all its label sets."""
    return sum(float(l.rsplit(" ", 1)[1]) for l in metrics.splitlines() if l.startswith(name + "{"))


def buckets(metrics, name):
    out = {}
    for line in metrics.splitlines():
        if line.startswith(name + "_bucket{"):
            le = line.split('le="', 1)[1].split('"', 1)[0]
            out[float(le)] = float(line.rsplit(" ", 1)[1])
    return out


def p99(before, after):
    les = sorted(after)
    total = after[les[-1]] - before.get(les[-1], 0)
    if total <= 0:
        return float("nan"), 0
    for le in les:
        if after[le] - before.get(le, 0) >= 0.99 * total:
            return le, int(total)
    return float("inf"), int(total)


def launch(args):
    firsts, rss = [], []
    for i in range(args.runs):
        a = Agent()
        try:
            a.wait_for(lambda m: 'probe_total{target="self"' in m, seconds=30)
            firsts.append(time.monotonic() - a.t0)
            time.sleep(args.idle_seconds)
            rss.append(a.rss_mb())
        finally:
            a.stop()
        print(f"run {i + 1}: first result {firsts[-1]:.3f} s, idle RSS {rss[-1]:.1f} MB", flush=True)
    print(f"launch -> first probe result: median {statistics.median(firsts):.3f} s "
          f"(min {min(firsts):.3f}, max {max(firsts):.3f}) over {len(firsts)} runs")
    print(f"idle RSS, one target, after {args.idle_seconds} s: median {statistics.median(rss):.1f} MB "
          f"(min {min(rss):.1f}, max {max(rss):.1f})")


# The platform built up bundle by bundle, each layer with everything above it (file name prefixes).
LAYERS = [
    ("the Felix framework, no bundle", []),
    ("+ SCR, ConfigAdmin, FileInstall", ["org.apache.felix.", "org.osgi."]),
    ("+ api, core, scheduler, sockets (JNA, Gson, simpleclient)",
     ["io.sonde.api", "io.sonde.core", "io.sonde.scheduler", "io.sonde.sockets", "jna", "gson", "simpleclient-",
      "simpleclient_common", "simpleclient_tracer"]),
    ("+ exporter (Jetty, simpleclient_hotspot)", ["io.sonde.exporter", "jetty-", "simpleclient_hotspot"]),
    ("+ uplink, wire: the platform without plugins", ["io.sonde.uplink", "io.sonde.wire"]),
    ("+ the six plugins (tcp, udp, icmp, traceroute, http, dns with dnsjava): as shipped", ["io.sonde.plugin.", "dnsjava"]),
]


def bare_jvm(flags, seconds):
    """A JVM with the launcher's flags that only sleeps: the floor under everything."""
    src = tempfile.mkdtemp(prefix="sonde-bench-jvm-")
    try:
        with open(os.path.join(src, "Sleep.java"), "w") as f:
            f.write("public class Sleep { public static void main(String[] a) throws Exception "
                    "{ Thread.sleep(600_000); } }")
        subprocess.run(["javac", "-d", src, os.path.join(src, "Sleep.java")], check=True)
        proc = subprocess.Popen(["java"] + flags + ["-cp", src, "Sleep"])
        try:
            time.sleep(seconds)
            return proc_rss_mb(proc.pid), loaded_classes(proc.pid)
        finally:
            proc.terminate()
            proc.wait(10)
    finally:
        shutil.rmtree(src, ignore_errors=True)


def loaded_classes(pid):
    out = subprocess.run(["jcmd", str(pid), "PerfCounter.print"], capture_output=True, text=True).stdout
    counters = dict(l.split("=", 1) for l in out.splitlines() if "=" in l)
    return sum(int(counters.get(c, "0")) for c in ("java.cls.loadedClasses", "java.cls.sharedLoadedClasses")) - \
        sum(int(counters.get(c, "0")) for c in ("java.cls.unloadedClasses", "java.cls.sharedUnloadedClasses"))


def layers(args):
    """Idle RSS of the agent built up layer by layer, rounds alternating through the layers."""
    with open(os.path.join(DIST, "bin", "sonde")) as f:
        text = f.read()
    flags = text.split('DEFAULT_JAVA_OPTS="', 1)[1].split('"', 1)[0].replace("\\\n", " ").split()
    rss = {name: [] for name, _ in [("a JVM that sleeps, the launcher's flags", None)] + LAYERS}
    classes = dict.fromkeys(rss, 0)
    for r in range(args.runs):
        name = "a JVM that sleeps, the launcher's flags"
        mb, n = bare_jvm(flags, args.idle_seconds)
        rss[name].append(mb)
        classes[name] = n
        keep = []
        for name, prefixes in LAYERS:
            keep = keep + prefixes
            a = Agent(keep=keep)
            try:
                time.sleep(args.idle_seconds)
                rss[name].append(a.rss_mb())
                classes[name] = loaded_classes(a.proc.pid)
            finally:
                a.stop()
        print(json.dumps({"round": r + 1, "rss_mb": {k: round(v[-1], 1) for k, v in rss.items()}}), flush=True)
    print()
    print(f"| layer | idle RSS after {args.idle_seconds} s (median of {args.runs}) | more than the layer above | classes loaded |")
    print("|---|---:|---:|---:|")
    before = None
    for name, values in rss.items():
        m = statistics.median(values)
        more = "" if before is None else f"{m - before:+.1f} MB"
        print(f"| {name} | {m:.1f} MB ({min(values):.1f}-{max(values):.1f}) | {more} | {classes[name]:,} |")
        before = m


def scale(args):
    listeners = Listeners(args.addresses)
    dists = args.dist.split(",") if args.dist else [DIST]
    rows = []
    try:
        for n in [int(x) for x in args.targets.split(",")]:
            targets = [{"name": f"t{i}", "kind": "tcp", "host": listeners.addresses[i % len(listeners.addresses)],
                        "port": listeners.port, "close": args.close}
                       for i in range(n)]
            for rnd in range(args.rounds):
                for d in dists:  # the builds alternate, so that the machine's drift falls on each alike
                    a = Agent(targets=targets, interval_ms=args.interval_ms, java_opts=args.java_opts, dist=d)
                    try:
                        row = measure_scale(a, n, args)
                        row["dist"] = d
                        row["round"] = rnd + 1
                        rows.append(row)
                        print(json.dumps(row), flush=True)
                    finally:
                        a.stop()
    finally:
        listeners.close()
    print()
    print("| build | targets | CPU % of one core | RSS MB (peak) | lateness p99 | skipped turns | probes/s | /metrics render ms (median) | /metrics size KB |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['dist']} #{r['round']} | {r['targets']:,} | {r['cpu_pct']:.1f} | {r['rss_mb']:.0f} | ≤ {r['lateness_p99_le_ms']:g} ms "
              f"| {r['skipped']} of {r['turns']} | {r['probes_per_s']:.0f} | {r['render_ms_median']:.0f} | {r['metrics_kb']:,} |")


def measure_scale(a, n, args):
    """Waits for n active targets and a warm-up interval, then measures a window of args.seconds."""
    a.wait_for(lambda m: sample(m, 'sonde_targets{state="active",}') == n, seconds=120, poll=0.5)
    # warm-up: every target probed once, or longer where asked (the JIT is still compiling then)
    time.sleep(max(args.interval_ms / 1000 + 2, getattr(args, "warmup", 0)))
    m0 = a.metrics()
    c0, t0 = a.cpu_seconds(), time.monotonic()
    u0, s0 = a.cpu_split()
    rss_peak = 0.0
    end = t0 + args.seconds
    while time.monotonic() < end:
        rss_peak = max(rss_peak, a.rss_mb())
        time.sleep(1)
    c1, t1 = a.cpu_seconds(), time.monotonic()
    u1, s1 = a.cpu_split()
    m1 = a.metrics()
    renders = []
    for _ in range(5):
        r0 = time.monotonic()
        body = a.metrics(timeout=30)
        renders.append((time.monotonic() - r0) * 1000)
    lat_p99, observed = p99(buckets(m0, "sonde_scheduler_lateness_seconds"),
                            buckets(m1, "sonde_scheduler_lateness_seconds"))
    skipped = sum(sample(m1, f'sonde_scheduler_skipped_total{{reason="{r}",}}')
                  - sample(m0, f'sonde_scheduler_skipped_total{{reason="{r}",}}') for r in ("overlap", "late"))
    probes = sum(float(l.rsplit(" ", 1)[1]) for l in m1.splitlines() if l.startswith("probe_total{")) - \
        sum(float(l.rsplit(" ", 1)[1]) for l in m0.splitlines() if l.startswith("probe_total{"))
    ok = sum(float(l.rsplit(" ", 1)[1]) for l in m1.splitlines() if l.startswith("probe_success{"))
    row = dict(targets=n, cpu_pct=100 * (c1 - c0) / (t1 - t0),
               user_pct=100 * (u1 - u0) / (t1 - t0), sys_pct=100 * (s1 - s0) / (t1 - t0), rss_mb=rss_peak,
               lateness_p99_le_ms=lat_p99 * 1000, turns=observed, skipped=int(skipped),
               probes_per_s=probes / (t1 - t0), succeeding=int(ok),
               render_ms_median=statistics.median(renders), metrics_kb=len(body) // 1024)
    return row


def proc_cpu(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def proc_rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024
    return float("nan")


def probe_load(port, pid, name, listeners, args):
    """Drives GET /probe?module=tcp_connect on 127.0.0.1:port the way Prometheus would: one request
    per target per interval, for each target count of args.targets. Counts the CPU and peak RSS of
    process pid only; returns one row per count."""
    import http.client
    rows = []
    for n in [int(x) for x in args.targets.split(",")]:
        rate = n / (args.interval_ms / 1000)
        threads = max(1, min(8, int(rate // 150) + 1))
        stop_at = time.monotonic() + args.seconds + 5
        done = [0]
        failed = [0]
        latencies = []

        def drive(k):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            per_thread = rate / threads
            i = k
            start = time.monotonic()
            sent = 0
            while time.monotonic() < stop_at:
                due = start + sent / per_thread
                wait = due - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
                host = listeners.addresses[i % len(listeners.addresses)]
                try:
                    t = time.monotonic()
                    conn.request("GET", f"/probe?module=tcp_connect&target={host}:{listeners.port}",
                                 headers={"X-Prometheus-Scrape-Timeout-Seconds": "2.5"})
                    body = conn.getresponse().read()
                    latencies.append(time.monotonic() - t)
                    done[0] += 1
                    if b"probe_success 1" not in body:
                        failed[0] += 1
                except (OSError, http.client.HTTPException):
                    failed[0] += 1
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                sent += 1
                i += threads
            conn.close()

        workers = [threading.Thread(target=drive, args=(k,), daemon=True) for k in range(threads)]
        for w in workers:
            w.start()
        time.sleep(5)  # warm-up
        c0, t0, d0, l0 = proc_cpu(pid), time.monotonic(), done[0], len(latencies)
        rss_peak = 0.0
        end = t0 + args.seconds
        while time.monotonic() < end:
            rss_peak = max(rss_peak, proc_rss_mb(pid))
            time.sleep(1)
        c1, t1, d1, l1 = proc_cpu(pid), time.monotonic(), done[0], len(latencies)
        for w in workers:
            w.join(args.seconds + 30)
        window = sorted(latencies[l0:l1])
        row = dict(targets=n, peer=name, cpu_pct=100 * (c1 - c0) / (t1 - t0), rss_mb=rss_peak,
                   probes_per_s=(d1 - d0) / (t1 - t0), failed=failed[0],
                   median_ms=1000 * window[len(window) // 2] if window else float("nan"),
                   p99_ms=1000 * window[int(len(window) * 0.99)] if window else float("nan"),
                   cpu_ms_per_probe=1000 * (c1 - c0) / max(1, d1 - d0))
        rows.append(row)
        print(json.dumps(row), flush=True)
    return rows


class Blackbox:
    """prometheus-blackbox-exporter (Debian package) on a free loopback port with a tcp_connect module."""

    def __init__(self):
        exe = shutil.which("prometheus-blackbox-exporter") or shutil.which("blackbox_exporter")
        if not exe:
            sys.exit("needs the Debian package prometheus-blackbox-exporter")
        self.workdir = tempfile.mkdtemp(prefix="sonde-bench-bbe-")
        config = os.path.join(self.workdir, "blackbox.yml")
        with open(config, "w") as f:
            f.write("modules:\n  tcp_connect:\n    prober: tcp\n    timeout: 2s\n")
        self.port = free_port()
        self.log = open(os.path.join(self.workdir, "bbe.log"), "w")
        self.proc = subprocess.Popen([exe, f"--config.file={config}", f"--web.listen-address=127.0.0.1:{self.port}"],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=1).read()
                break
            except OSError:
                time.sleep(0.1)

    def stop(self):
        terminate(self.proc)
        self.log.close()
        shutil.rmtree(self.workdir, ignore_errors=True)


def uplink(args):
    """The same N TCP targets without and with the uplink to a running server, alternated
    args.rounds times in one run: the uplink's CPU and RSS cost, and that nothing is skipped. With
    --dist A,B each build is measured so, alternating: the uplink's cost (on less off) compared."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import server_bench
    server = server_bench.Server()
    listeners = Listeners(args.addresses)
    n = args.targets
    targets = [{"name": f"t{i}", "kind": "tcp", "host": listeners.addresses[i % len(listeners.addresses)], "port": listeners.port}
               for i in range(n)]
    dists = args.dist.split(",") if args.dist else [DIST]
    rows = {(d, mode): [] for d in dists for mode in ("off", "on")}
    try:
        _, body = server.request("POST", "/api/v1/enrollment-tokens", json.dumps({}))
        token = json.loads(body)["token"]
        for r in range(args.rounds):
            for d in dists:
                for mode in ("off", "on"):
                    cfg = None
                    if mode == "on":
                        cfg = (f"server_url = https://127.0.0.1:{server.port}\nenrollment_token = {token}\n"
                               f"server_ca_sha256 = {server.fingerprint()}\n")
                    a = Agent(targets=targets, interval_ms=args.interval_ms, uplink=cfg, dist=d,
                              agent_id=f"bench-{dists.index(d)}-{mode}-{r}")
                    try:
                        row = measure_scale(a, n, args)
                        if mode == "on":
                            m = a.metrics()
                            row["acked"] = sample(m, "sonde_uplink_acked_total")
                            if not row["acked"]:
                                raise SystemExit(f"the uplink of {d} delivered nothing: see {a.home}/console.log")
                            row["spool_records"] = sample(m, "sonde_spool_records")
                            row["sink_dropped"] = total(m, "sonde_sink_dropped_total")
                        rows[(d, mode)].append(row)
                        print(d, mode, json.dumps(row), flush=True)
                    finally:
                        a.stop()
    finally:
        listeners.close()
        server.clean()
    print()
    print("| build | uplink | CPU % of one core (median) | RSS MB (peak, median) | skipped turns | lateness p99 |")
    print("|---|---|---:|---:|---:|---:|")
    for (d, mode), rs in rows.items():
        print(f"| {d} | {mode} | {statistics.median(r['cpu_pct'] for r in rs):.1f} | {statistics.median(r['rss_mb'] for r in rs):.0f} "
              f"| {sum(r['skipped'] for r in rs)} | ≤ {max(r['lateness_p99_le_ms'] for r in rs):g} ms |")
    for d in dists:
        cost = statistics.median(r['cpu_pct'] for r in rows[(d, "on")]) - statistics.median(r['cpu_pct'] for r in rows[(d, "off")])
        print(f"uplink cost, {d}: {cost:.1f} % of one core for {n * 1000 / args.interval_ms:.0f} results/s"
              f" = {cost / 100 * 1e6 / (n * 1000 / args.interval_ms):.1f} µs of CPU per result")


def peer(args):
    """The same probes through prometheus-blackbox-exporter, as Prometheus would drive it: one
    /probe request per target per interval. Only the exporter's own CPU is counted."""
    listeners = Listeners(args.addresses)
    bbe = Blackbox()
    try:
        rows = probe_load(bbe.port, bbe.proc.pid, "blackbox_exporter", listeners, args)
    finally:
        bbe.stop()
        listeners.close()
    print()
    print("| targets | blackbox_exporter CPU % of one core | RSS MB (peak) | probes/s |")
    print("|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['targets']:,} | {r['cpu_pct']:.1f} | {r['rss_mb']:.0f} | {r['probes_per_s']:.0f} |")


def probe(args):
    """GET /probe?module=tcp_connect against Sonde's /probe, then blackbox_exporter's, same load, same
    run: CPU per probe, RSS, request latency as the scraper sees it."""
    listeners = Listeners(args.addresses)
    rows = []
    try:
        a = Agent()
        try:
            a.wait_for(lambda m: sample(m, 'sonde_targets{state="active",}') >= 1, seconds=60, poll=0.2)
            rows += probe_load(a.port, a.proc.pid, "sonde", listeners, args)
        finally:
            a.stop()
        bbe = Blackbox()
        try:
            rows += probe_load(bbe.port, bbe.proc.pid, "blackbox_exporter", listeners, args)
        finally:
            bbe.stop()
    finally:
        listeners.close()
    print()
    print("| /probe tcp_connect | requests/s | CPU % of one core | CPU ms per probe | RSS MB (peak) | median ms | p99 ms | failed |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['peer']} | {r['probes_per_s']:.0f} | {r['cpu_pct']:.1f} | {r['cpu_ms_per_probe']:.3f} | "
              f"{r['rss_mb']:.0f} | {r['median_ms']:.2f} | {r['p99_ms']:.2f} | {r['failed']} |")


def icmp(args):
    """N ICMP targets on loopback addresses, one echo each per interval: the agent against fping
    with the same list in the same run. CPU per echo, replies, mean RTT."""
    fping = shutil.which("fping")
    if not fping:
        sys.exit("needs the Debian package fping")
    n = args.targets
    hosts = [f"127.{1 + i // 62500}.{(i // 250) % 250}.{1 + i % 250}" for i in range(n)]
    rounds = max(1, args.seconds * 1000 // args.interval_ms)
    # the agent
    targets = [{"name": f"i{i}", "kind": "icmp", "host": h, "count": 1} for i, h in enumerate(hosts)]
    a = Agent(targets=targets, interval_ms=args.interval_ms, java_opts=args.java_opts)
    try:
        a.wait_for(lambda m: sample(m, 'sonde_targets{state="active",}') == n, seconds=120, poll=0.5)
        idle_rss = a.rss_mb()
        time.sleep(args.interval_ms / 1000 + 2)
        u0, s0 = a.cpu_split()
        m0, m1, cpu, seconds = a.measure(rounds * args.interval_ms / 1000)
        u1, s1 = a.cpu_split()
        rss = a.rss_mb()
        mode = [l for l in m1.splitlines() if l.startswith('sonde_icmp_mode{family="ipv4"')]

        sent = total(m1, "probe_packets_sent_total") - total(m0, "probe_packets_sent_total")
        got = total(m1, "probe_packets_received_total") - total(m0, "probe_packets_received_total")
        rtt_sum = total(m1, "probe_latency_seconds_sum") - total(m0, "probe_latency_seconds_sum")
        rtt_n = total(m1, "probe_latency_seconds_count") - total(m0, "probe_latency_seconds_count")
        agent_row = dict(tool="sonde", mode=mode, cpu_s=cpu, user_s=u1 - u0, sys_s=s1 - s0, seconds=seconds, sent=sent, received=got,
                         cpu_us_per_echo=1e6 * cpu / max(1, sent), mean_rtt_us=1e6 * rtt_sum / max(1, rtt_n),
                         rss_mb=rss, idle_rss_mb=idle_rss)
    finally:
        a.stop()
    if args.skip_fping:
        print(json.dumps(agent_row), flush=True)
        return
    # fping, same list, same pace: -C rounds, -p period per target, -i 1 ms between packets
    workdir = tempfile.mkdtemp(prefix="sonde-bench-fping-")
    try:
        listfile = os.path.join(workdir, "targets")
        with open(listfile, "w") as f:
            f.write("\n".join(hosts) + "\n")
        gap = max(1, args.interval_ms // n) if n else 1
        t0 = time.monotonic()
        p = subprocess.Popen([fping, "-q", "-C", str(rounds), "-p", str(args.interval_ms), "-i", str(gap),
                              "-t", "2000", "-f", listfile], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        err = p.stderr.read().decode()
        _, status, usage = os.wait4(p.pid, 0)
        p.returncode = status
        t1 = time.monotonic()
        rtts = []
        for line in err.splitlines():
            if " : " in line:
                for v in line.split(" : ", 1)[1].split():
                    if v != "-":
                        rtts.append(float(v))
        cpu = usage.ru_utime + usage.ru_stime
        fping_row = dict(tool="fping", cpu_s=cpu, user_s=usage.ru_utime, sys_s=usage.ru_stime, seconds=t1 - t0, sent=n * rounds, received=len(rtts),
                         cpu_us_per_echo=1e6 * cpu / max(1, n * rounds),
                         mean_rtt_us=1000 * statistics.mean(rtts) if rtts else float("nan"))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    for r in (agent_row, fping_row):
        print(json.dumps(r), flush=True)
    print()
    print("| | echoes | replies | CPU per echo | mean RTT | RSS |")
    print("|---|---:|---:|---:|---:|---:|")
    mode = agent_row["mode"][0].split('mode="')[1].split('"')[0] if agent_row["mode"] else "?"
    print(f"| Sonde ({mode}) | {agent_row['sent']:.0f} | {agent_row['received']:.0f} "
          f"| {agent_row['cpu_us_per_echo']:.1f} µs | {agent_row['mean_rtt_us']:.1f} µs | {agent_row['rss_mb']:.0f} MB |")
    print(f"| fping | {fping_row['sent']} | {fping_row['received']} | {fping_row['cpu_us_per_echo']:.1f} µs "
          f"| {fping_row['mean_rtt_us']:.1f} µs | |")
    print(f"ratio of CPU per echo: {agent_row['cpu_us_per_echo'] / fping_row['cpu_us_per_echo']:.2f}; "
          f"RTT bias (Sonde mean - fping mean): {agent_row['mean_rtt_us'] - fping_row['mean_rtt_us']:.1f} µs")


def traceroute(args):
    """N traceroute targets four hops away, through the namespaces of lab/router-chain.sh (root)."""
    lab = os.path.join(ROOT, "lab", "router-chain.sh")
    env = dict(os.environ, SONDE_LAB_PREFIX="sb")
    subprocess.run([lab, "up"], check=True, env=env)
    try:
        hosts = [f"198.18.6.{1 + i % 254}" for i in range(args.targets)]
        targets = [{"name": f"tr{i}", "kind": "traceroute", "host": h, "max_hops": 8, "hop_timeout_ms": 1000,
                    "flows": args.flows, "interval_ms": args.interval_ms, "timeout_ms": 5000} for i, h in enumerate(hosts)]
        a = Agent(targets=targets, interval_ms=args.interval_ms)
        try:
            a.wait_for(lambda m: sample(m, 'sonde_targets{state="active",}') == args.targets, seconds=120, poll=0.5)
            time.sleep(args.interval_ms / 1000 + 5)
            m0, m1, cpu, seconds = a.measure(args.seconds)

            traces = total(m1, "probe_total") - total(m0, "probe_total")
            reached = sum(1 for l in m1.splitlines() if l.startswith("probe_success{") and l.endswith(" 1"))
            hops = [float(l.rsplit(" ", 1)[1]) for l in m1.splitlines() if l.startswith("probe_traceroute_hops{")]
            row = dict(targets=args.targets, flows=args.flows, interval_s=args.interval_ms / 1000, traces=traces,
                       cpu_pct=100 * cpu / seconds, rss_mb=a.rss_mb(), reached=reached,
                       hops_median=statistics.median(hops) if hops else None)
            print(json.dumps(row))
            print(f"| {args.targets:,} traceroute targets every {args.interval_ms / 1000:g} s, {args.flows} flows | "
                  f"{row['cpu_pct']:.1f} % of one core | {row['rss_mb']:.0f} MB | {reached} reached, median hops "
                  f"{row['hops_median']} |")
        finally:
            a.stop()
    finally:
        subprocess.run([lab, "down"], env=env)


HTTP_SERVER = r"""
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        body = b'{"status": "UP", "version": "2.1.0", "items": [{"name": "db", "up": true}, {"name": "cache", "up": true}]}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
s.request_queue_size = 1024
print(s.server_address[1], flush=True)
s.serve_forever()
"""


NGINX_CONF = """
worker_processes 1;
error_log {dir}/error.log;
pid {dir}/nginx.pid;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body; proxy_temp_path {dir}/proxy; fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi; scgi_temp_path {dir}/scgi;
    server {{
        listen 127.0.0.1:{port} ssl http2;
        ssl_certificate {dir}/cert.pem;
        ssl_certificate_key {dir}/key.pem;
        keepalive_timeout 0;
        default_type application/json;
        location / {{ return 200 '{{"status": "UP", "version": "2.1.0", "items": [{{"name": "db", "up": true}}, {{"name": "cache", "up": true}}]}}'; }}
    }}
}}
"""


def start_nginx(work):
    """nginx on loopback, TLS with a self-signed certificate, h2 and http/1.1 by ALPN: returns (process, port)."""
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", f"{work}/key.pem", "-out", f"{work}/cert.pem"], check=True, capture_output=True)
    port = free_port()
    with open(f"{work}/nginx.conf", "w") as f:
        f.write(NGINX_CONF.format(dir=work, port=port))
    proc = subprocess.Popen([nginx, "-p", work, "-c", f"{work}/nginx.conf", "-g", "daemon off;"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, port
        except OSError:
            time.sleep(0.05)
    proc.terminate()
    raise RuntimeError("nginx did not listen on " + str(port))


def http(args):
    """N HTTP targets on a loopback server, a fresh connection per probe: the agent's CPU. Then one
    target probed every 100 ms against curl's time_total for the same URL, medians compared. With
    --tls: nginx over TLS offering h2 and http/1.1, each protocol in turn (http_version 1.1, then 2),
    against curl --http1.1 and --http2."""
    work = tempfile.mkdtemp(prefix="sonde-bench-http-")
    if args.tls:
        server, port = start_nginx(work)
        runs = [("1.1", "--http1.1"), ("2", "--http2")]
        scheme = "https"
    else:
        server = subprocess.Popen([sys.executable, "-c", HTTP_SERVER], stdout=subprocess.PIPE)
        port = int(server.stdout.readline())
        runs = [(None, None)]
        scheme = "http"
    try:
        checks = {"expect_json": '$.status == "UP"; $.items.length() > 0; $.items[0].up == true',
                  "expect_header.Content-Type": "^application/json", "body_not_regex": "maintenance"} if args.checks else {}
        for version, curl_flag in runs:
            keys = dict(checks)
            if version:
                keys.update({"http_version": version, "ca_file": f"{work}/cert.pem"})
            label = f" over TLS, HTTP/{version}" if version else ""
            targets = [dict({"name": f"h{i}", "kind": "http", "host": f"{scheme}://127.0.0.1:{port}/t{i}"}, **keys)
                       for i in range(args.targets)]
            a = Agent(targets=targets, interval_ms=args.interval_ms)
            try:
                a.wait_for(lambda m: sample(m, 'sonde_targets{state="active",}') == args.targets, seconds=120, poll=0.5)
                time.sleep(args.interval_ms / 1000 + 2)
                m0, m1, cpu, seconds = a.measure(args.seconds)

                probes = total(m1, "probe_total") - total(m0, "probe_total")
                ok = total(m1, "probe_latency_seconds_count") - total(m0, "probe_latency_seconds_count")
                row = dict(targets=args.targets, http_version=version, cpu_pct=100 * cpu / seconds, rss_mb=a.rss_mb(),
                           probes=probes, succeeded=ok)
            finally:
                a.stop()
            print(json.dumps(row), flush=True)
            print(f"| {args.targets:,} HTTP targets every {args.interval_ms / 1000:g} s{label}"
                  f"{' with checks' if args.checks else ''} | {row['cpu_pct']:.1f} % of one core "
                  f"| {row['rss_mb']:.0f} MB | {row['succeeded']:.0f} of {row['probes']:.0f} probes succeeded |", flush=True)

            # overhead against curl: one URL, the agent's per-probe total (sum of its phases) against time_total
            url = f"{scheme}://127.0.0.1:{port}/one"
            one = dict({"name": "one", "kind": "http", "host": url, "interval_ms": 100, "timeout_ms": 90}, **keys)
            a = Agent(targets=[one], interval_ms=100)
            ours = []
            try:
                a.wait_for(lambda m: sample(m, 'probe_total{target="one",kind="http"}') >= 50, seconds=60, poll=0.1)
                last = None
                deadline = time.monotonic() + args.overhead_seconds
                while time.monotonic() < deadline:
                    m = a.metrics()
                    n = sample(m, 'probe_total{target="one",kind="http"}')
                    if n != last:
                        last = n
                        ours.append(sum(sample(m, f'probe_http_duration_seconds{{target="one",kind="http",phase="{ph}"}}')
                                        for ph in ("dns", "connect", "tls", "processing", "transfer")))
                    time.sleep(0.1)
                versions = sorted({l.split('version="')[1].split('"')[0] for l in a.metrics().splitlines()
                                   if l.startswith('probe_http_version_info{') and 'target="one"' in l})
            finally:
                a.stop()
            curl = shutil.which("curl")
            theirs = []
            command = [curl, "-s", "-o", "/dev/null", "-w", "%{time_total} %{http_version}"]
            if version:
                command += [curl_flag, "--cacert", f"{work}/cert.pem"]
            seen = set()
            for _ in range(len(ours)):
                out = subprocess.run(command + [url], capture_output=True, text=True).stdout.split()
                theirs.append(float(out[0]))
                seen.add(out[1])
                time.sleep(0.1)
            mo, mt = statistics.median(ours) * 1000, statistics.median(theirs) * 1000
            print(f"one URL{label}, {len(ours)} probes each: Sonde median {mo:.3f} ms ({versions}), curl time_total median "
                  f"{mt:.3f} ms (HTTP {sorted(seen)}), overhead {mo - mt:+.3f} ms", flush=True)
    finally:
        server.terminate()
        server.wait(10)
        shutil.rmtree(work, ignore_errors=True)


def edit(args):
    """One entry of a large targets file edited, again and again: how long the core takes to read
    the file and apply the change (sonde_config_apply_seconds, the core thread's wall time for the
    whole change), and how many entries it checked again."""
    n = args.targets
    port = free_port()  # nothing listens: connects are refused at once; backoff keeps the load low
    targets = [{"name": f"e{i}", "kind": "tcp", "host": "127.0.0.1", "port": port} for i in range(n)]
    a = Agent(targets=targets, interval_ms=args.interval_ms, java_opts=args.java_opts)
    path = os.path.join(a.home, "etc", "targets.json")
    try:
        a.wait_for(lambda m: sample(m, 'sonde_targets{state="active",}') + sample(m, 'sonde_targets{state="backoff",}') == n,
                   seconds=180, poll=0.5)
        log = a.log.name  # the console: bin/sonde logs there
        applied = []
        for r in range(args.edits):
            before = open(log).read().count("target entries from")
            targets[r]["port"] = port + 1 + r % 2  # one entry changed
            tmp = path + ".tmp"
            with open(tmp, "w") as f:
                json.dump({"probe_interval_ms": args.interval_ms, "default_timeout_ms": 2000, "targets": targets}, f)
            os.rename(tmp, path)
            deadline = time.monotonic() + 30
            while open(log).read().count("target entries from") == before and time.monotonic() < deadline:
                time.sleep(0.05)
            line = [l for l in open(log).read().splitlines() if "target entries from" in l][-1]
            ms = 1000 * sample(a.metrics(), "sonde_config_apply_seconds")
            applied.append(ms)
            print(json.dumps({"edit": r + 1, "apply_ms": round(ms, 2), "log": line.split("] ", 1)[-1]}), flush=True)
            time.sleep(1.5)  # the file is polled every second
        print()
        print(f"one entry of {n} edited, {args.edits} times: applied in median {statistics.median(applied):.1f} ms "
              f"(min {min(applied):.1f}, max {max(applied):.1f}) of core time")
    finally:
        a.stop()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    l = sub.add_parser("launch")
    l.add_argument("--runs", type=int, default=7)
    l.add_argument("--idle-seconds", type=int, default=10)
    s = sub.add_parser("scale")
    s.add_argument("--targets", default="100,1000,10000")
    s.add_argument("--interval-ms", type=int, default=10000)
    s.add_argument("--seconds", type=int, default=60)
    s.add_argument("--addresses", type=int, default=100, help="loopback addresses the targets spread over")
    s.add_argument("--with-peer", action="store_true",
                   help="then run the same targets through prometheus-blackbox-exporter (the peer mode)")
    s.add_argument("--close", default="fin", choices=["fin", "reset"], help="the TCP targets' close option")
    s.add_argument("--java-opts", default=None, help="extra JVM options, after the launcher's defaults")
    s.add_argument("--dist", default=None, help="distributions to compare, comma-separated (default: this build's)")
    s.add_argument("--rounds", type=int, default=1, help="times each distribution is measured, alternating")
    q = sub.add_parser("peer")
    q.add_argument("--targets", default="100,1000,10000")
    q.add_argument("--interval-ms", type=int, default=10000)
    q.add_argument("--seconds", type=int, default=60)
    q.add_argument("--addresses", type=int, default=100)
    b = sub.add_parser("probe")
    b.add_argument("--targets", default="1000", help="targets a scraper would probe through /probe, per interval")
    b.add_argument("--interval-ms", type=int, default=10000)
    b.add_argument("--seconds", type=int, default=60)
    b.add_argument("--addresses", type=int, default=100)
    c = sub.add_parser("icmp")
    c.add_argument("--targets", type=int, default=10000)
    c.add_argument("--interval-ms", type=int, default=10000)
    c.add_argument("--seconds", type=int, default=60)
    c.add_argument("--java-opts", default=None, help="extra JVM options, after the launcher's defaults (a profiler, say)")
    c.add_argument("--skip-fping", action="store_true", help="the agent alone (while profiling)")
    t = sub.add_parser("traceroute")
    t.add_argument("--targets", type=int, default=1000)
    t.add_argument("--interval-ms", type=int, default=60000)
    t.add_argument("--seconds", type=int, default=120)
    t.add_argument("--flows", type=int, default=8, help="flows per trace (8, the default of the kind; 1: one flow, as before 2.2)")
    u = sub.add_parser("uplink")
    u.add_argument("--targets", type=int, default=10000)
    u.add_argument("--interval-ms", type=int, default=10000)
    u.add_argument("--seconds", type=int, default=60)
    u.add_argument("--rounds", type=int, default=2)
    u.add_argument("--warmup", type=int, default=60, help="seconds before the window: past the JIT's first compilations")
    u.add_argument("--addresses", type=int, default=100)
    u.add_argument("--dist", default=None, help="distributions to compare, comma-separated (default: this build's)")
    h = sub.add_parser("http")
    h.add_argument("--targets", type=int, default=1000)
    h.add_argument("--interval-ms", type=int, default=10000)
    h.add_argument("--seconds", type=int, default=60)
    h.add_argument("--overhead-seconds", type=int, default=30)
    h.add_argument("--checks", action="store_true", help="each target asserts on the JSON body and a header (issue 29)")
    h.add_argument("--tls", action="store_true", help="nginx over TLS, HTTP/1.1 then HTTP/2 (http_version), each against curl")
    y = sub.add_parser("layers")
    y.add_argument("--runs", type=int, default=3)
    y.add_argument("--idle-seconds", type=int, default=15)
    e = sub.add_parser("edit")
    e.add_argument("--targets", type=int, default=10000)
    e.add_argument("--interval-ms", type=int, default=10000)
    e.add_argument("--edits", type=int, default=7)
    e.add_argument("--java-opts", default=None)
    args = p.parse_args()
    if not os.path.exists(os.path.join(DIST, "bin", "sonde")):
        sys.exit("build first: mvn -B -q package -DskipTests")
    {"launch": launch, "scale": scale, "peer": peer, "probe": probe, "icmp": icmp, "traceroute": traceroute, "http": http,
     "uplink": uplink, "edit": edit, "layers": layers}[args.cmd](args)
    if getattr(args, "with_peer", False):
        print()
        peer(args)


if __name__ == "__main__":
    main()
