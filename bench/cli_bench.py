#!/usr/bin/env python3
"""Whole-process benchmarks of bin/sonde-cli (dist/target/sonde), each against the tool an
operator would otherwise run, in the same run:

    python3 bench/cli_bench.py [--runs 7] [--entries 10000]

probe:     sonde-cli probe icmp|traceroute|tcp 127.0.0.1 -c 1 (a JVM, the agent's framework and
           plugins started for one probe) against ping -c 1, traceroute -n -q 1 and a TCP connect
           from Python: wall time from exec to exit.
validate:  sonde-cli validate of the shipped etc/, and of a targets file of N entries.
status:    sonde-cli status against a running agent, and curl of its /status.

Medians of --runs runs. Traffic stays on 127.0.0.1; the agent is stopped by PID at the end.
"""
import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DIST = os.path.join(ROOT, "dist", "target", "sonde")


def wall(cmd, env=None, ok=(0, 1)):
    t0 = time.perf_counter()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, timeout=120)
    took = time.perf_counter() - t0
    if p.returncode not in ok:
        raise SystemExit(f"{cmd} exited {p.returncode}: {p.stdout.decode()}")
    return took


def median_ms(cmd, runs, env=None):
    return statistics.median(wall(cmd, env) for _ in range(runs)) * 1000


def tcp_connect(port):
    t0 = time.perf_counter()
    s = socket.create_connection(("127.0.0.1", port), timeout=2)
    s.close()
    return time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--entries", type=int, default=10000)
    a = ap.parse_args()
    cli = os.path.join(DIST, "bin", "sonde-cli")
    rows = []
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(100)
    port = listener.getsockname()[1]
    try:
        rows.append(("sonde-cli probe icmp -c 1", median_ms([cli, "probe", "icmp", "127.0.0.1", "-c", "1"], a.runs),
                     "ping -c 1", median_ms(["ping", "-c", "1", "-W", "1", "127.0.0.1"], a.runs)))
        if shutil.which("traceroute"):
            rows.append(("sonde-cli probe traceroute -c 1",
                         median_ms([cli, "probe", "traceroute", "127.0.0.1", "-c", "1", "--set", "max_hops=3"], a.runs),
                         "traceroute -n -q 1", median_ms(["traceroute", "-n", "-q", "1", "-m", "3", "127.0.0.1"], a.runs)))
        rows.append(("sonde-cli probe tcp -c 1", median_ms([cli, "probe", "tcp", "127.0.0.1", "-p", str(port), "-c", "1"], a.runs),
                     "one connect() (Python, in process)", statistics.median(tcp_connect(port) for _ in range(a.runs)) * 1000))
    finally:
        listener.close()

    work = tempfile.mkdtemp(prefix="sonde-cli-bench-")
    try:
        targets = os.path.join(work, "targets.json")
        with open(targets, "w") as f:
            json.dump({"targets": [{"name": f"t{i}", "kind": "tcp", "host": "127.0.0.1", "port": 1000 + i % 60000,
                                    "interval_ms": 10000} for i in range(a.entries)]}, f)
        rows.append(("sonde-cli validate (shipped etc/)", median_ms([cli, "validate", os.path.join(DIST, "etc")], a.runs), "", None))
        rows.append((f"sonde-cli validate ({a.entries:,} entries)", median_ms([cli, "validate", targets], a.runs), "", None))

        home = os.path.join(work, "agent")
        shutil.copytree(DIST, home, symlinks=True)
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        agent_port = s.getsockname()[1]
        s.close()
        with open(os.path.join(home, "etc", "io.sonde.exporter.cfg"), "w") as f:
            f.write(f"port = {agent_port}\nbind = 127.0.0.1\n")
        env = dict(os.environ, SONDE_HOME=home)
        agent = subprocess.Popen([os.path.join(home, "bin", "sonde")], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        try:
            url = f"http://127.0.0.1:{agent_port}/status"
            for _ in range(300):
                try:
                    urllib.request.urlopen(url, timeout=1).read()
                    break
                except OSError:
                    time.sleep(0.1)
            rows.append(("sonde-cli status", median_ms([cli, "status", "--agent", f"http://127.0.0.1:{agent_port}"], a.runs),
                         "curl /status", median_ms(["curl", "-s", url], a.runs)))
        finally:
            agent.terminate()
            agent.wait(timeout=20)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print(f"{'command':42} {'median ms':>10}   {'peer':36} {'median ms':>10}")
    for r in rows:
        peer = f"{r[3]:10.1f}" if r[3] is not None else ""
        print(f"{r[0]:42} {r[1]:10.1f}   {r[2]:36} {peer}")


if __name__ == "__main__":
    main()
