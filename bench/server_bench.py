#!/usr/bin/env python3
"""Whole-process benchmarks of the built Sonde server (dist/target/sonde-server).

    python3 bench/server_bench.py ingest [--agents 1000] [--batch 5000] [--senders 3] [--millions 1,10] [--store h2,postgres]
    python3 bench/server_bench.py series [--agents 8] [--targets 10] [--days 30] [--store h2,postgres]
    python3 bench/server_bench.py replay [--targets 2000] [--interval-ms 1000] [--results 720000]
    python3 bench/server_bench.py configs [--agents 10000] [--targets 1000] [--meshes 20] [--seconds 15]
    python3 bench/server_bench.py bundles [--agents 1000] [--mb 1] [--seconds 20]
    python3 bench/server_bench.py fleet [--agents 1000,2500] [--seconds 300] [--warmup 60] [--store h2] [--remote-write off,on]
                                        [--h2-compress true,false]

ingest: a load generator simulating many agents (each enrolled through the API with its own
        credential and spool epoch) posts gzip batches of tcp/icmp results as fast as the server
        acknowledges them. Reported per stage (every million stored, up to the last): the sustained
        rate, the server's CPU (utime+stime from /proc, in cores) and RSS, the store's size and its
        bytes per stored result. Results are spread over the last 7 days; one target of one agent
        ("hot", every 10 s for 7 days) is then asked for with /api/v1/series at 5-minute steps,
        20 times: the median and p90 latency. --store runs it on each store in turn: PostgreSQL is a
        throw-away cluster (initdb, pg_ctl; fsync on) whose CPU is reported beside the server's.
series: 8 agents x 10 targets, each agent's results in time order every 10 s for 30 days (20.7 M),
        then waits for the leader's rollups and asks for one target over 30 days at 1-hour steps
        and 24 hours at 1-minute steps, 20 times each; bytes per raw result and per rollup row.
configs: N agents enrolled in three groups, each reporting once (its address), 1,000 targets by tag and 20
        meshes (fan-out 10, icmp + tcp) defined through the API; then every agent's document asked for once
        (the time to the last), and wrk asking one agent's unchanged document with its version (304) and
        without (200, gzip) for --seconds each: requests/s and the server's CPU. wrk runs on the same cores.
bundles: a signed bundle of --mb megabytes (keys and signature made with the distribution's
        bin/sonde-release) uploaded to the repository, then fetched by --agents simulated agents at once
        (wrk, one connection each, for --seconds): requests/s, MB/s, and the server's RSS sampled every
        0.2 s before and during (a server that held each download in memory would grow by agents x size).
fleet:  N simulated agents (bench/fleet, Java: each its own TLS connection, the agent's protocol at its
        pace: a batch about every second, the configuration every 5 s, the status every 15 s with the
        kinds a real agent announces, 10 tcp targets every 10 s) for --seconds after --warmup: per
        endpoint p50/p99, answers by status, results offered and acknowledged, backlog, the server's
        CPU and RSS and its live heap after the window (jcmd), the generator's own CPU, the alert
        evaluation's time, and the admin views' latency at that size (fleet list, health, one
        agent's targets). --agents 1000,2500 runs each size on a fresh server.
views:  the admin's views at a fleet's size, the fleet seeded rather than simulated: N agents (10,000) enrolled and
        reporting, each posting its last minute (10 targets every 10 s, a tenth of them seeing t0 down), the first 100
        a full mesh; then on the idle server the fleet list (first page, and every page), the health list, one target
        from every agent, one agent's targets, one target's series across all agents, the mesh matrix (median and max
        of 9 after 2, 2.1 s apart: past the health list's cache), the alert evaluation's time, RSS and live heap.
replay: a built agent with N TCP targets spools while its server is down until it holds the wanted
        number of results; the server is started and the time until the spool is empty is measured
        while probing goes on; spool bytes per result are reported.

Traffic stays on 127.0.0.1. Processes are stopped by PID at the end; every loop is bounded.
"""
import argparse
import gzip
import http.client
import json
import os
import re
import shutil
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from agent_bench import free_port, proc_cpu, proc_rss_mb, terminate  # noqa: E402  one copy of the process helpers

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SERVER_DIST = os.environ.get("SONDE_SERVER_DIST") or os.path.join(ROOT, "dist", "target", "sonde-server")
AGENT_DIST = os.path.join(ROOT, "dist", "target", "sonde")
DAY = 86400


class Server:
    """A copy of the server distribution (this build's, or `dist`) on a free loopback port."""

    def __init__(self, extra="", dist=None, files=None, cpus=None):
        self.cpus = cpus  # a taskset CPU list the server runs on (an overload on fewer cores than the machine has)
        self.home = tempfile.mkdtemp(prefix="sonde-server-bench-")
        shutil.copytree(dist or SERVER_DIST, self.home, dirs_exist_ok=True, symlinks=True)
        self.port = free_port()
        with open(os.path.join(self.home, "etc", "io.sonde.server.cfg"), "w") as f:
            f.write(f"port = {self.port}\nbind = 127.0.0.1\nstore = h2\n{extra}")
        for name, content in (files or {}).items():  # more of etc/, say io.sonde.server.remotewrite.cfg
            with open(os.path.join(self.home, name), "w") as f:
                f.write(content)
        self.proc = None
        self.start()

    def start(self):
        os.makedirs(os.path.join(self.home, "log"), exist_ok=True)
        log = open(os.path.join(self.home, "log", "console.log"), "a")
        self.proc = subprocess.Popen((["taskset", "-c", self.cpus] if self.cpus else []) + [os.path.join(self.home, "bin", "sonde-server")], stdout=log, stderr=subprocess.STDOUT,
                                     env={k: v for k, v in os.environ.items() if k != "SONDE_SERVER_HOME"})
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                # a short timeout: a connection taken while the listener starts may never be answered
                probe = http.client.HTTPSConnection("127.0.0.1", self.port, context=self.context(), timeout=2)
                if self.request("GET", "/healthz", auth=None, conn=probe)[0] == 200:
                    probe.close()
                    return
                probe.close()
            except (OSError, ssl.SSLError, http.client.HTTPException):
                pass
            time.sleep(0.2)
        terminate(self.proc)  # never left running behind a failed start
        with open(os.path.join(self.home, "log", "console.log")) as f:
            tail = f.read()[-2000:]
        raise RuntimeError("server did not answer /healthz with 200 within 60 s; see " + self.home + "; its log ends:\n" + tail)

    def context(self):
        ctx = ssl.create_default_context(cafile=os.path.join(self.home, "data", "tls", "ca.pem"))
        return ctx

    def admin(self):
        with open(os.path.join(self.home, "data", "admin.token")) as f:
            return f.read().strip()

    def fingerprint(self):
        with open(os.path.join(self.home, "log", "console.log")) as f:
            return re.search(r"fingerprint is ([0-9A-F:]{95})", f.read()).group(1)

    def request(self, method, path, body=None, auth="admin", headers=None, conn=None):
        own = conn is None
        if own:
            conn = http.client.HTTPSConnection("127.0.0.1", self.port, context=self.context(), timeout=60)
        h = dict(headers or {})
        if auth == "admin":
            h["Authorization"] = "Bearer " + self.admin()
        elif auth:
            h["Authorization"] = "Bearer " + auth
        conn.request(method, path, body=body, headers=h)
        r = conn.getresponse()
        data = r.read()
        if own:
            conn.close()
        return r.status, data

    def stop(self):
        terminate(self.proc)

    def clean(self):
        self.stop()
        shutil.rmtree(self.home, ignore_errors=True)


class Postgres:
    """A throw-away PostgreSQL cluster (initdb, pg_ctl) on a free loopback port; as nobody when run as root."""

    def __init__(self):
        bins = [os.path.join("/usr/lib/postgresql", v, "bin") for v in ("17", "16", "15")]
        self.bin = next((b for b in bins if os.access(os.path.join(b, "initdb"), os.X_OK)), None)
        if self.bin is None:
            sys.exit("PostgreSQL is not installed (Debian package postgresql)")
        self.dir = tempfile.mkdtemp(prefix="sonde-bench-pg-")
        self.port = free_port()
        self.password = "bench-" + os.urandom(6).hex()
        with open(os.path.join(self.dir, "pw"), "w") as f:
            f.write(self.password + "\n")
        self.root = os.geteuid() == 0
        if self.root:
            subprocess.run(["chown", "-R", "nobody:nogroup", self.dir], check=True)
        self.pg("initdb", "-D", self.data(), "-U", "sonde", "-E", "UTF8", "--locale=C", "--auth=scram-sha-256",
                "--pwfile=" + os.path.join(self.dir, "pw"))
        # a server of this size would get about this much memory; the rest stays the default (fsync on)
        self.pg("pg_ctl", "-D", self.data(), "-l", os.path.join(self.dir, "log"), "-w", "-o",
                f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c shared_buffers=512MB -c max_wal_size=4GB", "start")
        self.pg("psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "sonde", "-d", "postgres", "-qc", "CREATE DATABASE sonde",
                env={"PGPASSWORD": self.password})

    def data(self):
        return os.path.join(self.dir, "data")

    def pg(self, tool, *args, env=None):
        cmd = (["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"] if self.root else []) + \
            [os.path.join(self.bin, tool)] + list(args)
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=dict(os.environ, **(env or {})), timeout=120)

    def config(self):
        return (f"store = postgres\njdbc_url = jdbc:postgresql://127.0.0.1:{self.port}/sonde\nuser = sonde\n"
                f"password_file = {os.path.join(self.dir, 'pw')}\n")

    def pids(self):
        with open(os.path.join(self.data(), "postmaster.pid")) as f:
            master = int(f.readline())
        out = [master]
        for d in os.listdir("/proc"):
            if d.isdigit():
                try:
                    with open(f"/proc/{d}/stat") as f:
                        if int(f.read().rsplit(")", 1)[1].split()[1]) == master:
                            out.append(int(d))
                except OSError:
                    pass
        return out

    def cpu(self):
        """CPU seconds of the postmaster and its children now running (the pool's backends live as long as the run)."""
        total = 0.0
        for pid in self.pids():
            try:
                total += proc_cpu(pid)
            except OSError:
                pass
        return total

    def close(self):
        try:
            self.pg("pg_ctl", "-D", self.data(), "-m", "fast", "-w", "stop")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


def enroll(server, count):
    status, body = server.request("POST", "/api/v1/enrollment-tokens", json.dumps({"tags": ["bench"]}))
    token = json.loads(body)["token"]
    creds = []
    conn = http.client.HTTPSConnection("127.0.0.1", server.port, context=server.context(), timeout=60)
    for i in range(count):
        status, body = server.request("POST", "/api/v1/enroll", json.dumps(
            {"schema": 1, "enrollment_token": token, "agent_id": f"bench-{i:04d}", "version": "bench"}), auth=None, conn=conn)
        assert status == 200, body
        creds.append(json.loads(body)["credential"])
    conn.close()
    return creds


def enroll_reporting(server, conn, count, token_of, tags_of=None):
    """Agents bench-00000.. enrolled one after another on `conn`, each with the token (and tags) its index gives, each reporting
    a status once (so it has an address and is online); their credentials, in order."""
    creds = []
    for i in range(count):
        doc = {"schema": 1, "enrollment_token": token_of(i), "agent_id": f"bench-{i:05d}", "version": "bench"}
        if tags_of:
            doc["tags"] = tags_of(i)
        status, body = server.request("POST", "/api/v1/enroll", json.dumps(doc), auth=None, conn=conn)
        assert status == 200, body
        creds.append(json.loads(body)["credential"])
        status, _ = server.request("POST", f"/api/v1/agents/bench-{i:05d}/status",
                                   '{"schema":1,"version":"bench","spool_records":0}', auth=creds[-1], conn=conn)
        assert status == 204
    return creds


class Generator:
    """Batches of one agent after another; each agent has 10 targets and its own rising sequence."""

    def __init__(self, agents, batch, now, labels=0):
        self.agents = agents
        self.batch = batch
        # each result of t0..t9 and p0..p9 carries this many labels, as an agent sends a labelled target's results
        self.labels = "" if labels == 0 else ',"labels":{%s}' % ",".join('"label%d":"value-%d"' % (k, k) for k in range(labels))
        self.start = now - 7 * DAY + 60
        self.lock = threading.Lock()
        self.next_agent = 0
        self.seq = [0] * agents

    def take(self):
        with self.lock:
            if self.seq[0] < 60480:  # the hot target's week first
                a = 0
            else:
                a = self.next_agent
                self.next_agent = (a + 1) % self.agents
            first = self.seq[a] + 1
            self.seq[a] += self.batch
        return a, first

    def body(self, a, first):
        # JSON written by format strings: the generator must outrun the server on the same 2 cores
        parts = []
        span = 7 * DAY - 120
        for i in range(self.batch):
            seq = first + i
            if a == 0 and seq <= 60480:  # the hot target: every 10 s for 7 days
                t = self.start + (seq - 1) * 10
                ok = seq % 97 != 0
                parts.append('{"seq":%d,"target":"hot","kind":"icmp","started_at":"%s","success":%s,%s"response_time_seconds":%.6f,'
                             '"details":{"sent":3,"received":%d}}' % (seq, iso(t), "true" if ok else "false",
                                                                     "" if ok else '"failure_reason":"timeout",',
                                                                     0.0005 + (seq * 7919 % 1000) / 1e6, 3 if ok else 2))
                continue
            t = self.start + (seq * 7919 + a * 104729) % span
            if seq % 2:
                parts.append('{"seq":%d,"target":"t%d","kind":"tcp","started_at":"%s","success":true,"response_time_seconds":%.6f,'
                             '"details":{"address":"198.18.0.1","port":443}%s}' % (seq, seq % 10, iso(t), (seq * 31 % 5000) / 1e6 + 0.0001,
                                                                                   self.labels))
            else:
                parts.append('{"seq":%d,"target":"p%d","kind":"icmp","started_at":"%s","success":true,"response_time_seconds":%.6f,'
                             '"details":{"address":"198.18.0.2","sent":3,"received":3,"rtts":[0.00021,0.00025,0.00023]}%s}'
                             % (seq, seq % 10, iso(t), (seq * 17 % 9000) / 1e6 + 0.0002, self.labels))
        doc = '{"schema":1,"agent_id":"bench-%04d","epoch":"bench%04d","results":[%s]}' % (a, a, ",".join(parts))
        return gzip.compress(doc.encode(), compresslevel=1)


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + "Z"


def send_batches(server, creds, queue, qlock, stop, stored, count_lock, errors, name="bench-%04d"):
    """A sender: takes (agent, gzip body) from the queue and posts it until acknowledged (429/503: again)."""
    conn = http.client.HTTPSConnection("127.0.0.1", server.port, context=server.context(), timeout=120)
    while not stop.is_set():
        with qlock:
            while not queue and not stop.is_set():
                qlock.wait(0.5)
            if stop.is_set():
                break
            a, body = queue.pop(0)
            qlock.notify_all()
        for attempt in range(20):
            try:
                status, data = server.request("POST", "/api/v1/agents/" + name % a + "/results", body, auth=creds[a],
                                              headers={"Content-Encoding": "gzip", "Content-Type": "application/json"}, conn=conn)
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPSConnection("127.0.0.1", server.port, context=server.context(), timeout=120)
                continue
            if status == 200:
                with count_lock:
                    stored[0] += json.loads(data)["accepted"]
                break
            if status in (429, 503):
                time.sleep(0.05)
                continue
            errors.append((status, data[:200]))
            break
    conn.close()


def post_batches(server, creds, work, body, senders, total, max_seconds, name="bench-%04d"):
    """Posts body(*w) for every w of `work` (its first item the agent's index into `creds`): one producer makes the bodies a
    little ahead of `senders` connections (send_batches), until `total` results are stored, a batch is refused, or
    `max_seconds` pass. Returns (results stored, errors, seconds, the server's cores meanwhile)."""
    queue, qlock, stop, stored, count_lock, errors = [], threading.Condition(), threading.Event(), [0], threading.Lock(), []

    def produce():
        for w in work:
            b = body(*w)
            with qlock:
                while len(queue) >= senders * 2 and not stop.is_set():
                    qlock.wait(0.5)
                if stop.is_set():
                    return
                queue.append((w[0], b))
                qlock.notify_all()

    threads = [threading.Thread(target=send_batches, args=(server, creds, queue, qlock, stop, stored, count_lock, errors, name),
                                daemon=True) for _ in range(senders)] + [threading.Thread(target=produce, daemon=True)]
    t0, cpu0 = time.time(), proc_cpu(server.proc.pid)
    for t in threads:
        t.start()
    while stored[0] < total and time.time() - t0 < max_seconds and not errors:
        time.sleep(0.5)
    t1, cpu1 = time.time(), proc_cpu(server.proc.pid)
    stop.set()
    with qlock:
        qlock.notify_all()
    for t in threads:
        t.join(30)
    return stored[0], errors, t1 - t0, (cpu1 - cpu0) / (t1 - t0)


def series(args):
    """A realistic stream (each agent's results in time order, every 10 s) of 20 M results, then the rollups, then queries."""
    for store in args.store.split(","):
        for dist in (args.dist.split(",") if args.dist else [SERVER_DIST]):
            db = Postgres() if store == "postgres" else None
            try:
                print(f"# {dist}")
                series_into(args, store, db, dist)
            finally:
                if db:
                    db.close()
            print()


def series_into(args, store, db, dist=None):
    server = Server(f"max_in_flight = {args.senders + 1}\n" + (db.config() if db else ""), dist=dist or SERVER_DIST)
    try:
        creds = enroll(server, args.agents)
        end = (int(time.time()) // 3600) * 3600 - 3600  # the last hour closed by the time the load is in
        start = end - args.days * DAY
        rounds = args.days * DAY // 10
        per_batch = args.batch // args.targets
        batches = [(a, r0) for r0 in range(0, rounds, per_batch) for a in range(args.agents)]
        total = args.agents * args.targets * rounds

        def body(a, r0):
            parts = []
            for r in range(r0, min(rounds, r0 + per_batch)):
                ts = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(start + r * 10)) + "Z"
                for k in range(args.targets):
                    seq = r * args.targets + k + 1
                    ok = (seq * 7919) % 97 != 0
                    rt = 0.0004 + ((seq * 7919 + a * 31) % 2000) / 1e6 + (0.02 if (seq * 13) % 101 == 0 else 0)
                    parts.append('{"seq":%d,"target":"t%d","kind":"icmp","started_at":"%s","success":%s,%s'
                                 '"response_time_seconds":%.6f,"details":{"sent":3,"received":%d}}'
                                 % (seq, k, ts, "true" if ok else "false", "" if ok else '"failure_reason":"timeout",', rt,
                                    3 if ok else 2))
            doc = '{"schema":1,"agent_id":"bench-%04d","epoch":"series%04d","results":[%s]}' % (a, a, ",".join(parts))
            return gzip.compress(doc.encode(), compresslevel=1)

        stored, errors, took, cores = post_batches(server, creds, batches, body, args.senders, total, args.max_seconds)
        if errors:
            print("errors:", errors[:5])
        print(f"# series on {store}: {args.agents} agents x {args.targets} targets every 10 s for {args.days} days: "
              f"{stored:,} of {total:,} results in {took:.0f} s ({stored / took:,.0f} results/s, server {cores:.2f} cores)")
        before = store_bytes(server)
        # the leader rolls up every closed hour; wait until a whole job turn finds nothing left
        # (and then the targets' hours across their agents: one committed at a time, so a count that stands still is done)
        r0, w0, made = time.time(), None, None
        while time.time() - r0 < args.max_seconds:
            m = server.request("GET", "/metrics", auth=None)[1].decode()
            targets = metric(m, "sonde_server_target_rolled_up_total")
            if metric(m, "sonde_server_rollup_backlog") == 0 and metric(m, "sonde_server_rolled_up_total") > 0 and (targets == made or targets != targets):  # NaN: a build without them
                w0 = w0 or time.time()
                if time.time() - w0 > 20:
                    break
            else:
                w0 = None
            made = targets
            time.sleep(2)
        m = server.request("GET", "/metrics", auth=None)[1].decode()
        hours = metric(m, "sonde_server_rolled_up_total")
        after = store_bytes(server)
        rows = hours * 61
        print(f"rollups: {hours:,.0f} hours rolled up in {time.time() - r0 - 20:.0f} s; the store grew by "
              f"{(after - before) / 1e6:.0f} MB for {rows:,.0f} rollup rows: {(after - before) / max(1, rows):.0f} bytes a row; "
              f"raw: {before / max(1, stored):.0f} bytes a result")
        conn = http.client.HTTPSConnection("127.0.0.1", server.port, context=server.context(), timeout=60)

        def timed(path, rounds):  # the query's times after two to warm up, sorted, and its steps
            times, n = [], 0
            for i in range(rounds + 2):
                q0 = time.perf_counter()
                status, b = server.request("GET", path, conn=conn)
                assert status == 200, b
                if i >= 2:
                    times.append(time.perf_counter() - q0)
                n = len(json.loads(b)["items"])
            return sorted(times), n

        for label, frm, step in (("30 days at 1-hour steps", end - 30 * DAY, "1h"), ("24 hours at 1-minute steps", end - DAY, "1m")):
            times, n = timed("/api/v1/series?agent=bench-0000&target=t%d&step=%s&from=%s&to=%s"
                             % (min(3, args.targets - 1), step, iso(frm), iso(end)), 20)
            print(f"series, one target over {label} ({n} steps), {stored:,} results stored: median "
                  f"{statistics.median(times) * 1000:.0f} ms, p90 {times[int(0.9 * len(times)) - 1] * 1000:.0f} ms")
        # a mesh's view: one target from every agent that probes it, the last hour at 10 s steps (raw) and a day at 1 minute
        for label, frm, step in (("the last hour at 10-second steps", end - 3600, "10s"), ("24 hours at 1-minute steps", end - DAY, "1m")):
            times, n = timed("/api/v1/series?target=t0&step=%s&from=%s&to=%s" % (step, iso(frm), iso(end)), 10)
            print(f"series, one target from all {args.agents} agents over {label} ({n} steps): median "
                  f"{statistics.median(times) * 1000:.0f} ms, max {times[-1] * 1000:.0f} ms")
        print(f"store after the queries: {store_bytes(server) / 1e6:.0f} MB ({(store_bytes(server) - before) / 1e6:.0f} MB more than"
              f" after the ingest)")
        conn.close()
    finally:
        server.clean()


def h2_settings(args, store):
    """The server settings each run of `store` takes: for H2, one per value of --h2-compress (its pages compressed or plain)."""
    if store != "h2":
        return [""]
    values = args.h2_compress.split(",")
    bad = [v for v in values if v not in ("true", "false")]
    if bad:
        raise SystemExit(f"--h2-compress: {bad[0]!r} is neither true nor false")
    return [f"h2_compress = {v}\n" for v in values]


def ingest(args):
    for store in args.store.split(","):
        for setting in h2_settings(args, store):
            db = Postgres() if store == "postgres" else None
            try:
                ingest_into(args, store, db, setting)
            finally:
                if db:
                    db.close()
            print()


def ingest_into(args, store, db, setting=""):
    millions = [int(m) for m in args.millions.split(",")]
    server = Server(f"max_in_flight = {args.senders + 1}\n" + (db.config() if db else "") + setting)
    try:
        creds = enroll(server, args.agents)
        gen = Generator(args.agents, args.batch, time.time(), args.labels)
        stored = [0]
        errors = []
        stop = threading.Event()
        count_lock = threading.Lock()

        # bodies are made ahead by a producer so that the senders only send
        queue = []
        qlock = threading.Condition()

        def produce():
            while not stop.is_set():
                with qlock:
                    while len(queue) >= args.senders * 2 and not stop.is_set():
                        qlock.wait(0.5)
                a, first = gen.take()
                body = gen.body(a, first)
                with qlock:
                    queue.append((a, body))
                    qlock.notify_all()

        def send():
            send_batches(server, creds, queue, qlock, stop, stored, count_lock, errors)

        producers = [threading.Thread(target=produce, daemon=True) for _ in range(args.producers)]
        senders = [threading.Thread(target=send, daemon=True) for _ in range(args.senders)]
        for t in producers + senders:
            t.start()
        print(f"# ingest into {store}{' (' + setting.strip() + ')' if setting else ''}: {args.agents} agents, batches of {args.batch},"
              f" {args.senders} senders, {args.producers} producers")
        print("| stored | rate (results/s) | server CPU (cores) | database CPU (cores) | server RSS (MB) | store (MB) | bytes/result |")
        print("|---|---|---|---|---|---|---|")
        rows = []
        db_cpu = db.cpu if db else (lambda: 0.0)
        last_n, last_t, last_cpu, last_db = 0, time.time(), proc_cpu(server.proc.pid), db_cpu()
        deadline = time.time() + args.max_seconds
        for m in millions:
            target = m * 1_000_000
            while stored[0] < target and time.time() < deadline and not errors:
                time.sleep(0.5)
            n, t, cpu, dbc = stored[0], time.time(), proc_cpu(server.proc.pid), db_cpu()
            rate = (n - last_n) / (t - last_t)
            size = store_bytes(server)
            row = (n, rate, (cpu - last_cpu) / (t - last_t), (dbc - last_db) / (t - last_t), proc_rss_mb(server.proc.pid),
                   size / 1e6, size / max(1, n))
            rows.append(row)
            print("| %d | %.0f | %.2f | %.2f | %.0f | %.0f | %.1f |" % row, flush=True)
            last_n, last_t, last_cpu, last_db = n, t, cpu, dbc
        stop.set()
        with qlock:
            qlock.notify_all()
        for t in senders + producers:
            t.join(30)
        if errors:
            print("errors:", errors[:5])
        # the store's size once everything is written out
        time.sleep(2)
        size = store_bytes(server)
        print(f"store after the load: {size / 1e6:.0f} MB for {stored[0]} results: {size / max(1, stored[0]):.1f} bytes per result")
        query(server)
        if db is None:
            server.stop()
            size = store_bytes(server)
            print(f"store after a clean stop (H2 compacts its file on close): {size / 1e6:.0f} MB, "
                  f"{size / max(1, stored[0]):.1f} bytes per result")
    finally:
        server.clean()


def store_bytes(server):
    """The store's own figure (H2: its files; PostgreSQL: the database's size), or H2's files once the server is stopped."""
    if server.proc.poll() is None:
        status, body = server.request("GET", "/metrics", auth=None)
        return metric(body.decode(), "sonde_server_store_bytes")
    d = os.path.join(server.home, "data", "store")
    return sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d) if f.endswith(".db"))


def query(server):
    now = time.time()
    path = "/api/v1/series?agent=bench-0000&target=hot&step=5m&from=%s&to=%s" % (iso(now - 7 * DAY), iso(now))
    conn = http.client.HTTPSConnection("127.0.0.1", server.port, context=server.context(), timeout=60)
    times = []
    steps = 0
    for i in range(22):
        t0 = time.perf_counter()
        status, body = server.request("GET", path, conn=conn)
        dt = time.perf_counter() - t0
        assert status == 200, body
        if i >= 2:  # two to warm up
            times.append(dt)
        steps = len(json.loads(body)["items"])
    conn.close()
    times.sort()
    print(f"series, one target over 7 days at 5-minute steps ({steps} steps from 60,480 results): "
          f"median {statistics.median(times) * 1000:.0f} ms, p90 {times[int(0.9 * len(times)) - 1] * 1000:.0f} ms")


def metric(text, name):
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    return float("nan")


def replay(args):
    server = Server()
    server.stop()  # made its CA and token; down from now on
    home = tempfile.mkdtemp(prefix="sonde-replay-bench-")
    shutil.copytree(AGENT_DIST, home, dirs_exist_ok=True, symlinks=True)
    port = free_port()
    etc = os.path.join(home, "etc")
    os.remove(os.path.join(etc, "io.sonde.target-self.cfg"))
    with open(os.path.join(etc, "io.sonde.exporter.cfg"), "w") as f:
        f.write(f"port = {port}\nbind = 127.0.0.1\n")
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4096)
    lport = listener.getsockname()[1]
    stop = threading.Event()

    def accept():
        listener.settimeout(0.5)
        while not stop.is_set():
            try:
                listener.accept()[0].close()
            except OSError:
                pass
    threading.Thread(target=accept, daemon=True).start()
    targets = [{"name": f"t{i}", "kind": "tcp", "host": "127.0.0.1", "port": lport} for i in range(args.targets)]
    with open(os.path.join(etc, "targets.json"), "w") as f:
        json.dump({"probe_interval_ms": args.interval_ms, "default_timeout_ms": 900, "targets": targets}, f)
    with open(os.path.join(etc, "io.sonde.agent.cfg"), "w") as f:
        f.write("agent_id = replay\ntargets_file = etc/targets.json\n")
    status = None
    # the token is made while the server is up for a moment
    server.start()
    _, body = server.request("POST", "/api/v1/enrollment-tokens", json.dumps({}))
    token = json.loads(body)["token"]
    with open(os.path.join(etc, "io.sonde.uplink.cfg"), "w") as f:
        f.write(f"server_url = https://127.0.0.1:{server.port}\nenrollment_token = {token}\nserver_ca_sha256 = {server.fingerprint()}\n")
    os.makedirs(os.path.join(home, "log"), exist_ok=True)
    agent = subprocess.Popen([os.path.join(home, "bin", "sonde")], stdout=open(os.path.join(home, "log", "console.log"), "w"),
                             stderr=subprocess.STDOUT, env={k: v for k, v in os.environ.items() if k != "SONDE_HOME"})

    def agent_metrics():
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
            return r.read().decode()
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                if metric(agent_metrics(), "sonde_uplink_acked_total") > 0:
                    break
            except OSError:
                pass
            time.sleep(0.5)
        server.stop()
        t_down = time.time()
        print(f"# replay: {args.targets} targets every {args.interval_ms} ms; server down, spooling to {args.results} results")
        deadline = time.time() + args.max_seconds
        m = agent_metrics()
        while metric(m, "sonde_spool_records") < args.results and time.time() < deadline:
            time.sleep(2)
            m = agent_metrics()
        records, sbytes = metric(m, "sonde_spool_records"), metric(m, "sonde_spool_bytes")
        print(f"spooled {records:.0f} results in {time.time() - t_down:.0f} s: {sbytes / 1e6:.0f} MB, "
              f"{sbytes / max(1, records):.0f} bytes per result")
        cpu0 = proc_cpu(agent.pid)
        t0 = time.time()
        server.start()
        acked0 = metric(m, "sonde_uplink_acked_total")
        while time.time() < deadline:
            m = agent_metrics()
            if metric(m, "sonde_spool_records") < args.targets * 2:  # only the newest round or two left
                break
            time.sleep(0.5)
        dt = time.time() - t0
        delivered = metric(m, "sonde_uplink_acked_total") - acked0
        print(f"backlog delivered in {dt:.1f} s ({delivered:.0f} results, {delivered / dt:.0f}/s) while probing went on; "
              f"agent CPU {100 * (proc_cpu(agent.pid) - cpu0) / dt:.0f} % of a core, RSS {proc_rss_mb(agent.pid):.0f} MB; "
              f"skipped turns {metric(m, 'sonde_scheduler_skipped_total')}")
    finally:
        stop.set()
        terminate(agent)
        listener.close()
        shutil.rmtree(home, ignore_errors=True)
        server.clean()


def configs(args):
    """Documents for many agents: made once for all, then served unchanged (304) and whole (200)."""
    wrk = shutil.which("wrk")
    if not wrk:
        sys.exit("configs needs wrk (apt-get install wrk)")
    server = Server("")
    try:
        groups = ["eu", "us", "ap"]
        conn = http.client.HTTPSConnection("127.0.0.1", server.port, context=server.context(), timeout=60)
        tokens = {}
        for g in groups:
            status, body = server.request("POST", "/api/v1/enrollment-tokens", json.dumps({"tags": [g]}), conn=conn)
            tokens[g] = json.loads(body)["token"]
        t0 = time.time()
        creds = enroll_reporting(server, conn, args.agents, lambda i: tokens[groups[i % 3]],
                                 lambda i: [f"site=s{i % args.meshes}"] + (["edge"] if i % 10 == 0 else []))
        print(f"# configs: {args.agents:,} agents enrolled and reported in {time.time() - t0:.0f} s")
        for i in range(args.targets):
            selector = [groups[i % 3], groups[i % 3] + " AND NOT edge", f"site=s{i % args.meshes} OR edge", "*"][i % 4]
            status, body = server.request("PUT", f"/api/v1/targets/t{i}", json.dumps(
                {"kind": "tcp", "host": "127.0.0.1", "port": 1000 + i, "interval_ms": 10000, "agents": selector}), conn=conn)
            assert status == 201, body
        for m in range(args.meshes):
            status, body = server.request("PUT", f"/api/v1/meshes/m{m}", json.dumps(
                {"members": "eu" if m == 0 else f"site=s{m}", "fanout": 10, "interval_ms": 30000,
                 "kinds": {"icmp": {}, "tcp": {"port": 7}}}), conn=conn)
            assert status == 201, body
        cpu0, t0 = proc_cpu(server.proc.pid), time.time()
        sizes, etag = [], None
        for i in range(args.agents):
            status, body = server.request("GET", f"/api/v1/agents/bench-{i:05d}/config", auth=creds[i], conn=conn)
            assert status == 200, body
            sizes.append(len(body))
            if i == 0:
                etag = '"%s"' % json.loads(body)["version"]
        took = time.time() - t0
        print(f"every agent's document asked for once, one after another on one connection: {took:.1f} s "
              f"({args.agents / took:,.0f} documents/s, server {(proc_cpu(server.proc.pid) - cpu0) / took:.2f} cores); "
              f"median document {statistics.median(sizes):,.0f} bytes")
        conn.close()
        url = f"https://127.0.0.1:{server.port}/api/v1/agents/bench-00000/config"
        for label, headers in (("unchanged, If-None-Match (304)", ["-H", f"If-None-Match: {etag}"]),
                               ("whole document, gzip (200)", ["-H", "Accept-Encoding: gzip"])):
            cpu0, t0 = proc_cpu(server.proc.pid), time.time()
            out = subprocess.run([wrk, "-t2", "-c32", f"-d{args.seconds}s", "-H", f"Authorization: Bearer {creds[0]}"] + headers + [url],
                                 capture_output=True, text=True, timeout=args.seconds + 60).stdout
            took = time.time() - t0
            rate = float(re.search(r"Requests/sec:\s+([0-9.]+)", out).group(1))
            codes = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
            latency = re.search(r"Latency\s+(\S+)", out).group(1)
            print(f"{label}: {rate:,.0f} requests/s, mean latency {latency}, server {(proc_cpu(server.proc.pid) - cpu0) / took:.2f} cores"
                  + (f", {codes.group(1)} answers not 2xx/3xx" if codes else ""))
    finally:
        server.clean()


def bundle_jar(path, megabytes):
    """A bundle jar of about `megabytes`: a manifest and one stored (uncompressed) entry of random bytes."""
    import zipfile
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        z.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\r\nBundle-ManifestVersion: 2\r\n"
                   "Bundle-SymbolicName: io.sonde.bench.payload\r\nBundle-Version: 1.0.0\r\n\r\n")
        z.writestr("payload.bin", os.urandom(int(megabytes * 1024 * 1024)))


def release_keys(server, work):
    """A release key pair made with the server's bin/sonde-release, trusted by the server; returns the public key."""
    release = os.path.join(server.home, "bin", "sonde-release")
    said = subprocess.run([release, "keygen", os.path.join(work, "keys")], capture_output=True, text=True, check=True).stdout
    key = re.search(r"trusted_keys = (\S+)", said).group(1)
    with open(os.path.join(server.home, "etc", "io.sonde.server.repository.cfg"), "w") as f:
        f.write(f"trusted_keys = {key}\n")
    return key


def upload_release(server, work, jar):
    """Signs `jar` with the key release_keys made and uploads it, as the README shows."""
    release = os.path.join(server.home, "bin", "sonde-release")
    subprocess.run([release, "sign", "--key", os.path.join(work, "keys", "release.key"), jar], check=True, capture_output=True)
    deadline = time.time() + 30
    while True:  # the repository takes the new key (its configuration file) within a moment
        out = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--cacert",
                              os.path.join(server.home, "data", "tls", "ca.pem"), "-H", "Authorization: Bearer " + server.admin(),
                              "-F", f"manifest=@{jar}.manifest.json", "-F", f"jar=@{jar}",
                              f"https://127.0.0.1:{server.port}/api/v1/bundles"], capture_output=True, text=True).stdout
        if out in ("200", "201"):
            return
        if time.time() > deadline:
            raise RuntimeError("upload answered " + out)
        time.sleep(0.5)


def rebuilt_plugin(jar, out, version):
    """The distribution's plugin `jar` again, as `version`: the same classes, another Bundle-Version."""
    import zipfile
    with zipfile.ZipFile(jar) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "META-INF/MANIFEST.MF":
                data = re.sub(rb"Bundle-Version: [^\r\n]+", b"Bundle-Version: " + version.encode(), data)
            dst.writestr(item, data)


def update(args):
    """One plugin updated on an agent probing many targets: the gap in each kind's stored results."""
    from agent_bench import Agent, sample
    from datetime import datetime
    server = Server("")
    work = tempfile.mkdtemp(prefix="sonde-bench-update-")
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4096)
    port = listener.getsockname()[1]
    stop = threading.Event()

    def accept():
        listener.settimeout(0.5)
        while not stop.is_set():
            try:
                c, _ = listener.accept()
                c.close()
            except OSError:
                pass
    threading.Thread(target=accept, daemon=True).start()
    agent = None
    try:
        key = release_keys(server, work)
        jar = os.path.join(work, "io.sonde.plugin.tcp-9.0.0.jar")
        rebuilt_plugin(os.path.join(AGENT_DIST, "plugins", "io.sonde.plugin.tcp.jar"), jar, "9.0.0")
        upload_release(server, work, jar)
        status, body = server.request("POST", "/api/v1/enrollment-tokens", json.dumps({"tags": ["bench"]}))
        token = json.loads(body)["token"]
        half = args.targets // 2
        targets = ([{"name": f"t{i}", "kind": "tcp", "host": "127.0.0.1", "port": port} for i in range(half)]
                   + [{"name": f"i{i}", "kind": "icmp", "host": "127.0.0.1", "count": 1} for i in range(args.targets - half)])
        agent = Agent(targets, interval_ms=args.interval_ms, uplink=(
            f"server_url = https://127.0.0.1:{server.port}\nenrollment_token = {token}\n"
            f"server_ca_file = {os.path.join(server.home, 'data', 'tls', 'ca.pem')}\nconfig_poll_s = 1\n"))
        with open(os.path.join(agent.home, "etc", "io.sonde.updater.cfg"), "w") as f:
            f.write(f"public_key = {key}\nhealth_watch_s = {args.watch}\n")
        agent.wait_for(lambda m: sample(m, 'sonde_targets{state="active",}') == args.targets, seconds=120, poll=0.5)
        time.sleep(args.settle)
        t_put = time.time()
        status, body = server.request("PUT", "/api/v1/rollouts/bench", json.dumps(
            {"bundle": "io.sonde.plugin.tcp", "version": "9.0.0", "agents": "bench"}))
        assert status == 201, body
        deadline = time.time() + args.watch + 120
        while True:
            status, body = server.request("GET", "/api/v1/rollouts/bench")
            states = json.loads(body).get("states", {})
            if states.get("healthy") == 1:
                break
            if states.get("failed") or time.time() > deadline:
                raise RuntimeError("the update did not end healthy: " + body.decode())
            time.sleep(0.5)
        t_healthy = time.time()
        time.sleep(args.settle)
        t_end = time.time()
        times = {}
        after, conn = None, http.client.HTTPSConnection("127.0.0.1", server.port, context=server.context(), timeout=60)
        for _ in range(10_000):
            q = f"/api/v1/results?from={iso(t_put - args.settle)}&to={iso(t_end)}&limit=10000" + (f"&after={after}" if after else "")
            status, body = server.request("GET", q, conn=conn)
            page = json.loads(body)
            for r in page["items"]:
                times.setdefault((r["kind"], r["target"]), []).append(
                    datetime.fromisoformat(r["started_at"].replace("Z", "+00:00")).timestamp())
            after = page["next"]
            if not after:
                break
        conn.close()
        interval = args.interval_ms / 1000
        for kind in ("tcp", "icmp"):
            gaps = []
            for (k, _), ts in times.items():
                if k == kind and len(ts) > 1:
                    ts.sort()
                    gaps.append(max(b - a for a, b in zip(ts, ts[1:])) - interval)
            gaps.sort()
            print(f"update: {kind}: {len(gaps)} targets, results from {args.settle} s before the rollout to {args.settle} s after"
                  f" healthy; the longest wait between two results beyond the {interval:.0f} s interval: median {statistics.median(gaps):.2f} s,"
                  f" p99 {gaps[int(len(gaps) * 0.99) - 1]:.2f} s, max {gaps[-1]:.2f} s")
        print(f"update: rollout to healthy {t_healthy - t_put:.1f} s (health watch {args.watch} s)")
    finally:
        stop.set()
        if agent:
            agent.stop()
        server.clean()
        listener.close()
        shutil.rmtree(work, ignore_errors=True)


def bundles(args):
    """Many agents fetching one bundle at once: streamed from the instance's disk copy, memory flat."""
    wrk = shutil.which("wrk")
    if not wrk:
        sys.exit("bundles needs wrk (apt-get install wrk)")
    import resource
    server = Server("")
    work = tempfile.mkdtemp(prefix="sonde-bench-bundles-")
    try:
        jar = os.path.join(work, "payload.jar")
        bundle_jar(jar, args.mb)
        release_keys(server, work)
        upload_release(server, work, jar)
        status, body = server.request("POST", "/api/v1/enrollment-tokens", json.dumps({"tags": ["bench"]}))
        token = json.loads(body)["token"]
        status, body = server.request("POST", "/api/v1/enroll", json.dumps(
            {"schema": 1, "enrollment_token": token, "agent_id": "fetcher", "tags": [], "version": "bench"}), auth=None)
        cred = json.loads(body)["credential"]
        url = f"https://127.0.0.1:{server.port}/api/v1/bundles/io.sonde.bench.payload/1.0.0/jar"
        status, data = server.request("GET", url.split(str(server.port), 1)[1], auth=cred)  # the instance's disk copy is made
        assert status == 200 and len(data) == os.path.getsize(jar), status
        time.sleep(2)
        idle = proc_rss_mb(server.proc.pid)
        samples, stop = [], threading.Event()

        def sample():
            while not stop.is_set():
                samples.append(proc_rss_mb(server.proc.pid))
                time.sleep(0.2)
        t = threading.Thread(target=sample, daemon=True)
        t.start()

        def more_files():
            soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, args.agents * 2 + 64)), hard))
        cpu0, t0 = proc_cpu(server.proc.pid), time.time()
        out = subprocess.run([wrk, "-t2", f"-c{args.agents}", f"-d{args.seconds}s", "--timeout", "30s",
                              "-H", f"Authorization: Bearer {cred}", url], capture_output=True, text=True,
                             timeout=args.seconds + 120, preexec_fn=more_files).stdout
        took = time.time() - t0
        stop.set()
        t.join()
        rate = float(re.search(r"Requests/sec:\s+([0-9.]+)", out).group(1))
        transfer = re.search(r"Transfer/sec:\s+(\S+)", out).group(1)
        codes = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        errors = re.search(r"Socket errors: (.*)", out)
        print(f"bundles: {args.agents:,} agents fetching one {os.path.getsize(jar) / 1048576:.1f} MB bundle at once for {args.seconds} s:"
              f" {rate:,.0f} downloads/s, {transfer}/s, server {(proc_cpu(server.proc.pid) - cpu0) / took:.2f} cores;"
              f" RSS idle {idle:.0f} MB, during: median {statistics.median(samples):.0f} MB, max {max(samples):.0f} MB"
              + (f"; {codes.group(1)} answers not 2xx" if codes else "") + (f"; socket errors: {errors.group(1)}" if errors else ""))
    finally:
        server.clean()
        shutil.rmtree(work, ignore_errors=True)


FLEET = os.path.join(ROOT, "bench", "fleet")


def announced_kinds(server, token):
    """The kinds object a real agent of this build announces in its status: one agent is started
    against the server until GET /api/v1/kinds lists what it runs."""
    import agent_bench
    a = agent_bench.Agent(uplink=(f"server_url = https://127.0.0.1:{server.port}\nenrollment_token = {token}\n"
                                  f"server_ca_sha256 = {server.fingerprint()}\n"), agent_id="fleet-announcer")
    try:
        deadline = time.time() + 90
        while time.time() < deadline:
            _, body = server.request("GET", "/api/v1/kinds")
            items = json.loads(body).get("items", [])
            if len(items) >= 5:
                kinds = {}
                for k in items:
                    o = dict(k["options"] or {})
                    o["results"] = k["results"]
                    kinds[k["kind"]] = o
                return kinds
            time.sleep(1)
        raise RuntimeError("the announcing agent's kinds never reached the server; see " + a.home)
    finally:
        a.stop()


class Prometheus:
    """A real Prometheus (Debian's) with its remote-write receiver on, scraping nothing, on a free loopback port."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="sonde-prometheus-bench-")
        self.port = free_port()
        with open(os.path.join(self.dir, "prometheus.yml"), "w") as f:
            f.write("global:\n  scrape_interval: 1m\nscrape_configs: []\n")
        self.proc = subprocess.Popen(["prometheus", "--config.file=" + os.path.join(self.dir, "prometheus.yml"),
                                      "--storage.tsdb.path=" + os.path.join(self.dir, "data"), f"--web.listen-address=127.0.0.1:{self.port}",
                                      "--web.enable-remote-write-receiver"],
                                     stdout=subprocess.DEVNULL, stderr=open(os.path.join(self.dir, "prometheus.log"), "w"))
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                c.request("GET", "/-/ready")
                if c.getresponse().status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError("prometheus did not start; see " + self.dir)

    def write_url(self):
        return f"http://127.0.0.1:{self.port}/api/v1/write"

    def close(self):
        terminate(self.proc)
        shutil.rmtree(self.dir, ignore_errors=True)


def server_metric(server, name):
    _, body = server.request("GET", "/metrics")
    return metric(body.decode(), name)


def live_heap_mb(pid):
    """The server's live heap: the total of a class histogram, which the JVM takes after a full collection (jcmd)."""
    try:
        out = subprocess.run(["jcmd", str(pid), "GC.class_histogram"], capture_output=True, text=True, timeout=120).stdout
        return round(int(out.strip().splitlines()[-1].split()[2]) / 1e6, 1)
    except (OSError, subprocess.SubprocessError, ValueError, IndexError):
        return None


def fleet(args):
    subprocess.run(["mvn", "-B", "-q", "-f", os.path.join(FLEET, "pom.xml"), "package", "-DskipTests"], check=True, timeout=900)
    cp = os.path.join(FLEET, "target", "classes") + ":" + os.path.join(FLEET, "target", "lib", "*")
    rows = []
    dists = args.dist.split(",") if args.dist else [SERVER_DIST]
    status_kinds = args.status_kinds.split(",")
    if len(status_kinds) == 1:
        status_kinds = status_kinds * len(dists)
    kinds_of = dict(zip(dists, status_kinds))
    statuses = args.statuses.split(",")
    if len(statuses) == 1:
        statuses = statuses * len(dists)
    statuses_of = dict(zip(dists, statuses))
    runs = [(store, n, d, rw, setting) for _ in range(args.rounds) for store in args.store.split(",")
            for n in [int(x) for x in args.agents.split(",")] for d in dists for rw in args.remote_write.split(",")
            for setting in h2_settings(args, store)]
    for store, n, dist, rw, setting in runs:
        if True:
            db = Postgres() if store == "postgres" else None
            prom = Prometheus() if rw == "on" else None  # every stored result forwarded to it, in the same run
            files = {"etc/io.sonde.server.remotewrite.cfg": f"url = {prom.write_url()}\n"} if prom else None
            server = Server((db.config() if db else "") + "batch_interval_s = 5\n" + setting
                            + "".join(line.strip() + "\n" for line in args.server_config.split(";") if line.strip()), dist=dist, files=files,
                            cpus=args.server_cpus)
            try:
                _, body = server.request("POST", "/api/v1/enrollment-tokens", json.dumps({"tags": ["fleet"]}))
                token = json.loads(body)["token"]
                kinds_file = os.path.join(server.home, "kinds.json")
                with open(kinds_file, "w") as f:
                    json.dump(announced_kinds(server, token), f)
                views = {"fleet list": [], "health": [], "agent page": []}
                stop = threading.Event()

                sizes = []  # the H2 file's size every 30 s: whether it levels off

                def sample_views():  # the admin's views while the fleet runs, once every 10 s
                    started = time.monotonic()
                    while not stop.wait(10):
                        mv = os.path.join(server.home, "data", "store", "sonde.mv.db")
                        if store == "h2" and os.path.exists(mv) and (not sizes or time.monotonic() - started >= 30 * len(sizes)):
                            sizes.append(round(os.path.getsize(mv) / 1e6))
                        for name, path in (("fleet list", "/api/v1/agents"), ("health", "/api/v1/health"),
                                           ("agent page", "/api/v1/health?limit=50000&agent=fleet-00000")):  # one agent's targets
                            t = time.monotonic()
                            try:
                                status, _ = server.request("GET", path)
                            except (OSError, http.client.HTTPException):  # a timeout (60 s) is an answer too: counted
                                status = 0
                            views[name].append(((time.monotonic() - t) * 1000, status))
                sampler = threading.Thread(target=sample_views, daemon=True)
                sim = subprocess.Popen(["java", "-Xmx2g", "-cp", cp, "io.sonde.bench.fleet.FleetSim", "--port", str(server.port),
                                        "--ca", os.path.join(server.home, "data", "tls", "ca.pem"), "--token", token,
                                        "--agents", str(n), "--seconds", str(args.seconds), "--warmup", str(args.warmup),
                                        "--server-pid", str(server.proc.pid), "--kinds", kinds_file, "--ramp", str(args.ramp),
                                        "--status-kinds", kinds_of[dist], "--statuses", statuses_of[dist]],
                                       stdout=subprocess.PIPE, text=True)
                sampler.start()
                db_window = []

                def sample_db():  # the database's CPU over about the simulator's window (it enrolls, then warms up)
                    if not stop.wait(args.warmup + 6):
                        c0, t0 = db.cpu(), time.monotonic()
                        if not stop.wait(args.seconds):
                            db_window.append((db.cpu() - c0) / (time.monotonic() - t0))
                if db:
                    threading.Thread(target=sample_db, daemon=True).start()
                out, _ = sim.communicate(timeout=args.seconds + args.warmup + 3600)
                stop.set()
                if sim.returncode != 0:
                    raise RuntimeError(f"the simulator ended with {sim.returncode}")
                row = json.loads(out.strip().splitlines()[-1])
                row["store"] = store + (" (" + setting.strip() + ")" if setting else "")
                row["dist"] = dist
                row["remote_write"] = rw
                row["database_cores"] = round(db_window[0], 2) if db_window else None
                if prom:
                    row["remote_write_sent"] = server_metric(server, "sonde_server_remote_write_sent_results_total")
                    row["remote_write_backlog"] = server_metric(server, "sonde_server_remote_write_backlog_results")
                row["alert_evaluation_s"] = server_metric(server, "sonde_server_alert_evaluation_seconds")
                # what the heap holds at this size, after the window (the RSS above is what the JVM took: up to -Xmx)
                row["live_heap_mb"] = live_heap_mb(server.proc.pid)
                if store == "h2":  # what the results take on disk: the store's file over the results it holds
                    size = os.path.getsize(os.path.join(server.home, "data", "store", "sonde.mv.db"))
                    held = server_metric(server, "sonde_server_ingested_results_total")
                    row["store_mb"] = round(size / 1e6, 1)
                    row["bytes_per_result"] = round(size / held) if held > 0 else None
                    row["store_mb_every_30s"] = sizes
                commits = server_metric(server, "sonde_server_store_commits_total")
                batches = server_metric(server, "sonde_server_store_committed_batches_total")
                row["batches_per_commit"] = round(batches / commits, 2) if commits > 0 and batches > 0 else None  # NaN: not counted
                for name, samples in views.items():
                    ms = sorted(m for m, _ in samples)
                    row[name + " ms"] = {"median": round(statistics.median(ms), 1) if ms else None,
                                         "max": round(ms[-1], 1) if ms else None,
                                         "not 200": sum(1 for _, st in samples if st != 200)}
                rows.append(row)
                print(json.dumps(row), flush=True)
            finally:
                server.clean()
                if db:
                    db.close()
                if prom:
                    prom.close()
    print()
    print("| build | store | database cores | remote write | agents | results/s offered / acked | server cores | RSS MB | generator cores | results p50 / p99 ms "
          "| config p99 ms | status p99 ms | not 200 | backlog max / end | never acked | alert eval s | batches per commit "
          "| fleet list ms | health ms | an agent's targets ms | store MB (bytes per result) | live heap MB |")
    print("|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        bad = sum(v for k, v in r["answers"].items() if k.rsplit(" ", 1)[1] not in ("200", "204", "304"))
        rw = "off" if r["remote_write"] == "off" else f"sent {r['remote_write_sent']:.0f}, waiting {r['remote_write_backlog']:.0f}"
        print(f"| {r['dist']} | {r['store']} | {r['database_cores'] if r['database_cores'] is not None else '–'} | {rw} | {r['agents']} | {r['results_per_s_offered']:.0f} / {r['results_per_s_acknowledged']:.0f} "
              f"| {r['server_cores']:.2f} | {r['server_rss_mb_max']} | {r['generator_cores']:.2f} "
              f"| {r['results'].get('p50_ms')} / {r['results'].get('p99_ms')} | {r['config'].get('p99_ms')} | {r['status'].get('p99_ms')} "
              f"| {bad} | {r['backlog_max']} / {r['backlog_end']} | {r['never_acknowledged']} | {r['alert_evaluation_s']} "
              f"| {r.get('batches_per_commit')} "
              f"| {r['fleet list ms']['median']} (max {r['fleet list ms']['max']}) | {r['health ms']['median']} (max {r['health ms']['max']}) "
              f"| {r['agent page ms']['median']} (max {r['agent page ms']['max']}) "
              f"| {str(r['store_mb']) + ' (' + str(r['bytes_per_result']) + ')' if r.get('store_mb') is not None else '–'} "
              f"| {r['live_heap_mb'] if r.get('live_heap_mb') is not None else '–'} |")


def views(args):
    """The admin's views at a fleet's size, the fleet seeded rather than simulated (the generator of N live agents needs the
    same two cores): N agents enrolled, each reporting a status and posting one batch of its last minute (T targets every 10 s,
    a tenth of the agents seeing t0 down), the first M of them also a full mesh; then every view timed on the idle server."""
    for dist in (args.dist.split(",") if args.dist else [SERVER_DIST]):
        server = Server(f"offline_after_s = 3600\nmax_in_flight = {args.senders + 1}\n", dist=dist)
        try:
            conn = http.client.HTTPSConnection("127.0.0.1", server.port, context=server.context(), timeout=60)
            tokens = {}
            for tag in ("fleet", "mesh"):
                status, body = server.request("POST", "/api/v1/enrollment-tokens", json.dumps({"tags": [tag]}), conn=conn)
                tokens[tag] = json.loads(body)["token"]
            t0 = time.time()
            creds = enroll_reporting(server, conn, args.agents, lambda i: tokens["mesh" if i < args.mesh else "fleet"])
            print(f"# {dist}: {args.agents:,} agents enrolled and reported in {time.time() - t0:.0f} s")
            if args.mesh:
                status, body = server.request("PUT", "/api/v1/meshes/m", json.dumps(
                    {"members": "mesh", "fanout": "all", "interval_ms": 10000, "kinds": ["icmp"]}), conn=conn)
                assert status == 201, body
            conn.close()
            now = time.time()

            def body(a):
                parts, seq = [], 0
                names = [f"t{k}" for k in range(args.targets)]
                if a < args.mesh:
                    names += [f"mesh/m/icmp/bench-{p:05d}" for p in range(args.mesh) if p != a]
                for name in names:
                    for r in range(6):  # the last minute at 10 s steps
                        seq += 1
                        ok = not (name == "t0" and a % 10 == 0)
                        parts.append('{"seq":%d,"target":"%s","kind":"icmp","started_at":"%s","success":%s,%s'
                                     '"response_time_seconds":%.6f,"details":{"sent":3,"received":%d}}'
                                     % (seq, name, iso(now - 60 + r * 10), "true" if ok else "false",
                                        "" if ok else '"failure_reason":"timeout",', 0.0004 + (seq * 7919 + a) % 2000 / 1e6,
                                        3 if ok else 0))
                doc = '{"schema":1,"agent_id":"bench-%05d","epoch":"views%05d","results":[%s]}' % (a, a, ",".join(parts))
                return gzip.compress(doc.encode(), compresslevel=1)

            total = args.agents * args.targets * 6 + args.mesh * (args.mesh - 1) * 6
            stored, errors, took, _ = post_batches(server, creds, [(a,) for a in range(args.agents)], body, args.senders, total, 1200,
                                                   "bench-%05d")
            assert not errors, errors[:3]
            print(f"seeded {stored:,} of {total:,} results in {took:.0f} s")
            # the rules an operator starts with, over every target and agent: evaluated every 10 s over the seeded fleet
            for name, rule in (("down", {"type": "target_down", "target": "*", "min_vantage": 1}),
                               ("loss", {"type": "loss", "target": "*", "threshold": 5}),
                               ("slow", {"type": "latency", "target": "*", "percentile": 90, "threshold": 100}),
                               ("offline", {"type": "agent_offline", "agents": "*"})):
                status, b = server.request("PUT", f"/api/v1/alert-rules/{name}", json.dumps(rule))
                assert status in (200, 201), (name, status, b[:300])
            time.sleep(35)  # the alert rules' evaluation (every 10 s) over the seeded fleet, three times
            conn = http.client.HTTPSConnection("127.0.0.1", server.port, context=server.context(), timeout=120)
            rows = []
            paths = [("fleet list, first page", "/api/v1/agents"),
                     ("health list (500 worst targets, 100 vantages each)", "/api/v1/health"),
                     ("one target from every agent", "/api/v1/health/t0"),
                     ("one agent's targets (its page)", "/api/v1/health?limit=50000&agent=bench-00001"),
                     ("one target's series, all agents, 5 min at 10 s", "/api/v1/series?target=t1&step=10s&from=%s&to=%s"
                      % (iso(now - 300), iso(now + 60)))]
            if args.mesh:
                paths.append((f"mesh matrix, {args.mesh} members", "/api/v1/meshes/m/matrix"))
            for label, path in paths:
                times, size = [], 0
                for i in range(args.rounds + 2):
                    time.sleep(2.1)  # past the health list's 2 s cache: each answer computed, as an admin's first look is
                    q0 = time.perf_counter()
                    status, b = server.request("GET", path, conn=conn)
                    assert status == 200, (path, status, b[:300])
                    if i >= 2:
                        times.append((time.perf_counter() - q0) * 1000)
                    size = len(b)
                times.sort()
                rows.append((label, statistics.median(times), times[-1], size))
            # every page of the fleet list, one after another
            q0, pages, after = time.perf_counter(), 0, None
            while True:
                status, b = server.request("GET", "/api/v1/agents" + (f"?after={after}" if after else ""), conn=conn)
                assert status == 200, b[:300]
                pages += 1
                after = json.loads(b).get("next")
                if not after or pages > args.agents:
                    break
            rows.append((f"fleet list, all {pages} pages", (time.perf_counter() - q0) * 1000, None, None))
            conn.close()
            alert_s = server_metric(server, "sonde_server_alert_evaluation_seconds")
            status, b = server.request("GET", "/api/v1/alerts")
            alerts = json.loads(b)
            firing = sum(1 for a in (alerts.get("items", alerts) if isinstance(alerts, dict) else alerts)
                         if isinstance(a, dict) and a.get("state") in ("pending", "firing"))
            print(f"| view at {args.agents:,} agents x {args.targets} targets | median ms | max ms | bytes |")
            print("|---|---:|---:|---:|")
            for label, med, mx, size in rows:
                print(f"| {label} | {med:.0f} | {'' if mx is None else f'{mx:.0f}'} | {'' if size is None else f'{size:,}'} |")
            print(f"alert evaluation (4 rules over every target and agent; {firing} alerts pending or firing): {alert_s} s; server RSS {proc_rss_mb(server.proc.pid)} MB, live heap {live_heap_mb(server.proc.pid)} MB")
        finally:
            server.clean()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="mode", required=True)
    i = sub.add_parser("ingest")
    i.add_argument("--agents", type=int, default=1000)
    i.add_argument("--batch", type=int, default=5000)
    i.add_argument("--senders", type=int, default=3)
    i.add_argument("--producers", type=int, default=1)
    i.add_argument("--millions", default="1,10")
    i.add_argument("--max-seconds", type=int, default=1800)
    i.add_argument("--store", default="h2,postgres", help="the stores to load, one after the other in this run")
    i.add_argument("--h2-compress", default="true", help="H2's page compression: true, false, or true,false to run both")
    i.add_argument("--labels", type=int, default=0, help="labels each result carries (0-16)")
    r = sub.add_parser("replay")
    r.add_argument("--targets", type=int, default=2000)
    r.add_argument("--interval-ms", type=int, default=1000)
    r.add_argument("--results", type=int, default=720000)
    r.add_argument("--max-seconds", type=int, default=1200)
    q = sub.add_parser("series")
    q.add_argument("--agents", type=int, default=8)
    q.add_argument("--targets", type=int, default=10)
    q.add_argument("--days", type=int, default=30)
    q.add_argument("--batch", type=int, default=5000)
    q.add_argument("--senders", type=int, default=3)
    q.add_argument("--max-seconds", type=int, default=1200)
    q.add_argument("--store", default="h2,postgres")
    q.add_argument("--dist", default=None, help="server distributions to compare, comma-separated (default: this build's)")
    c = sub.add_parser("configs")
    c.add_argument("--agents", type=int, default=10_000)
    c.add_argument("--targets", type=int, default=1000)
    c.add_argument("--meshes", type=int, default=20)
    c.add_argument("--seconds", type=int, default=15)
    fl = sub.add_parser("fleet")
    fl.add_argument("--agents", default="1000,2500")
    fl.add_argument("--seconds", type=int, default=300)
    fl.add_argument("--warmup", type=int, default=60)
    fl.add_argument("--store", default="h2")
    fl.add_argument("--h2-compress", default="true", help="H2's page compression: true, false, or true,false to run both")
    fl.add_argument("--ramp", type=int, default=0, help="seconds over which the agents start one after another (0: all at once)")
    fl.add_argument("--dist", default=None, help="server distributions to compare, comma-separated (default: this build's)")
    fl.add_argument("--status-kinds", default="hash", help="per distribution (comma-separated, or one for all): hash, statuses name"
                    " the kinds by their hash as agents of wire 1.5 do; full, every status carries them, as agents before")
    fl.add_argument("--statuses", default="quiet", help="per distribution (comma-separated, or one for all): quiet, a status"
                    " only on a change, a server's asking, 15 s without an answered batch or every 5 minutes, each batch telling the"
                    " spool, as agents of wire 1.6 do; every, one every 15 s, as agents before")
    fl.add_argument("--server-cpus", default=None, help="a taskset CPU list for the server (say 0: one core), to overload it"
                    " with fewer agents than its generator needs cores for")
    fl.add_argument("--server-config", default="", help="more lines for every server's etc/io.sonde.server.cfg, separated by ';'"
                    " (say 'max_in_flight = 16')")
    fl.add_argument("--rounds", type=int, default=1, help="times each is measured, alternating")
    fl.add_argument("--remote-write", default="off", help="off, on or both (off,on): with on, a real Prometheus takes every stored"
                    " result through remote write, in the same run")
    b = sub.add_parser("bundles")
    b.add_argument("--agents", type=int, default=1000)
    b.add_argument("--mb", type=float, default=1)
    b.add_argument("--seconds", type=int, default=20)
    u = sub.add_parser("update")
    u.add_argument("--targets", type=int, default=1000)
    u.add_argument("--interval-ms", type=int, default=1000)
    u.add_argument("--watch", type=int, default=20)
    u.add_argument("--settle", type=int, default=20)
    v = sub.add_parser("views")
    v.add_argument("--agents", type=int, default=10_000)
    v.add_argument("--targets", type=int, default=10)
    v.add_argument("--mesh", type=int, default=100, help="the first this many agents also form a full mesh")
    v.add_argument("--senders", type=int, default=3)
    v.add_argument("--rounds", type=int, default=9)
    v.add_argument("--dist", default=None, help="server distributions to compare, comma-separated (default: this build's)")
    args = p.parse_args()
    {"views": views, "ingest": ingest, "replay": replay, "series": series, "configs": configs, "bundles": bundles, "update": update,
     "fleet": fleet}[args.mode](args)


if __name__ == "__main__":
    main()
