#!/usr/bin/env python3
"""Operations: the status endpoint, SIGHUP reload, file sink reopening.

Usage: tests/operations.py APPLEMON

applemon reads a capture from a pipe (scripts/make-alert-capture, fed in
parts), so it is running while the test:
 1. asks the status endpoint (on a free 127.0.0.1 port) for /metrics and
    /status and checks the packet, alert and sink counters;
 2. renames the JSON file and sends SIGHUP: the next alerts go to a new
    file of the same name (log rotation);
 3. puts a broken signature file in place and sends SIGHUP: the error is
    logged with its file and line, and the old signatures stay in force
    (alerts go on);
 4. adds a [policy] that watches none of the hosts and sends SIGHUP:
    alerts stop;
 5. without that policy, replaces the signatures with a set that no
    longer knows icloud.com and sends SIGHUP: alerts stay stopped.
Loopback only; every wait is bounded.
"""

import json
import re
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request

APPLEMON = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "./applemon")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "out", "operations")
GEN = os.path.join(ROOT, "scripts", "make-alert-capture")

passed = failed = 0


def check(cond, msg):
    global passed, failed
    if cond:
        passed += 1
        print("ok   " + msg, flush=True)
    else:
        failed += 1
        print("FAIL " + msg, flush=True)
    return cond


def wait_for(pred, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.05)
    return pred()


def count_alerts(path):
    try:
        with open(path, "rb") as f:
            return f.read().count(b'"event_type":"alert"')
    except FileNotFoundError:
        return 0


def part(count, start):
    args = [sys.executable, GEN, "-", str(count), "--start", str(start)]
    if start:
        args.append("--no-header")
    return subprocess.run(args, check=True, stdout=subprocess.PIPE).stdout


def get(port, path):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as r:
        return r.status, r.headers.get("Content-Type", ""), r.read().decode()


def one_worker():
    """Parts fed through a pipe must be processed as they come: one
    packet thread (with several, a part may wait for the next)."""
    h = subprocess.run([APPLEMON, "--help"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    return ["--workers", "1"] if b"--workers" in h.stdout else []


def main():
    shutil.rmtree(OUT, ignore_errors=True)
    sigs = os.path.join(OUT, "sigs")
    os.makedirs(sigs)
    for f in os.listdir(os.path.join(ROOT, "signatures")):
        if f.endswith(".sig"):
            shutil.copy(os.path.join(ROOT, "signatures", f), sigs)
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    conf = os.path.join(OUT, "ops.conf")
    with open(conf, "w") as f:
        f.write(f"[alerts]\nsuppress = 0\n[status]\nlisten = 127.0.0.1:{port}\n")
    out = os.path.join(OUT, "alerts.json")
    err = os.path.join(OUT, "applemon.err")
    proc = subprocess.Popen([APPLEMON, "-S", sigs, "-c", conf, "--sensor", "ops", "-r", "-",
                             "-o", "json:" + out] + one_worker(), stdin=subprocess.PIPE,
                            stdout=subprocess.DEVNULL, stderr=open(err, "wb"))
    sent = 0

    def reload_and_wait(what):
        """SIGHUP, then wait for one more successful reload in the log."""
        n_ok = open(err).read().count("signatures and policy reloaded")
        proc.send_signal(signal.SIGHUP)
        check(wait_for(lambda: open(err).read().count("signatures and policy reloaded") > n_ok, 10),
              what)

    def send(n):
        nonlocal sent
        proc.stdin.write(part(n, sent))
        proc.stdin.flush()
        sent += n

    try:
        send(100)
        check(wait_for(lambda: count_alerts(out) == 100, 20), "100 alerts written")

        # 1. status endpoint
        st, ctype, body = get(port, "/metrics")
        check(st == 200 and ctype.startswith("text/plain"), "/metrics answers in text")
        check("applemon_packets_total 100\n" in body, "/metrics: applemon_packets_total 100")
        check('applemon_alerts_total{service="icloud"} 100\n' in body,
              "/metrics: 100 icloud alerts")
        check(f'applemon_sink_delivered_total{{sink="json:{out}"}} 100\n' in body,
              "/metrics: the file sink delivered 100")
        check("# TYPE applemon_sink_dropped_total counter\n" in body, "/metrics: sink drop counter")
        check("applemon_flows_active 100\n" in body and
              "applemon_flows_evicted_total 0\n" in body and
              "applemon_ip_fragments_total 0\n" in body and
              "# TYPE applemon_interface_drops_total counter\n" in body,
              "/metrics: active flows, evictions, fragments, interface drops")
        st, ctype, body = get(port, "/status")
        doc = json.loads(body)
        check(st == 200 and doc["packets"] == 100 and doc["alerts"] == 100 and
              doc["alerts_by_service"] == {"icloud": 100} and doc["sinks"][0]["delivered"] == 100
              and doc["flows_active"] == 100 and doc["fast_path_packets"] == 0,
              "/status: JSON with packets, alerts by service and sink counters")
        try:
            get(port, "/nothing")
            check(False, "/nothing: 404")
        except urllib.error.HTTPError as e:
            check(e.code == 404, "/nothing: 404")

        # 2. log rotation: rename, SIGHUP, the file is opened anew
        os.rename(out, out + ".1")
        proc.send_signal(signal.SIGHUP)
        check(wait_for(lambda: "SIGHUP" in open(err).read(), 10), "SIGHUP acknowledged")
        send(10)
        check(wait_for(lambda: count_alerts(out) == 10, 20) and count_alerts(out + ".1") == 100,
              "after rotation and SIGHUP: 10 new alerts in a new file, 100 in the old")

        # 3. a broken signature file: logged with file and line; old set stays
        with open(os.path.join(sigs, "zz-broken.sig"), "w") as f:
            f.write("# fine\ndomain icloud.com no-such-service\n")
        proc.send_signal(signal.SIGHUP)
        check(wait_for(lambda: "zz-broken.sig:2:" in open(err).read(), 10),
              "a broken signature file is reported as FILE:LINE")
        check("previous signatures and policy stay in force" in open(err).read(),
              "the old set stays in force")
        send(10)
        check(wait_for(lambda: count_alerts(out) == 20, 20), "alerts go on with the old set")

        # 4. a policy that watches none of these hosts: alerts stop
        os.unlink(os.path.join(sigs, "zz-broken.sig"))
        with open(conf, "a") as f:
            f.write("[policy elsewhere]\nhosts = 192.0.2.0/24\n")
        reload_and_wait("the new policy is installed")
        send(10)
        time.sleep(1)
        check(count_alerts(out) == 20, "hosts outside the new policy raise no alert")
        with open(conf, "w") as f:
            f.write(f"[alerts]\nsuppress = 0\n[status]\nlisten = 127.0.0.1:{port}\n")

        # 5. a set without icloud.com: alerts stop
        for f in os.listdir(sigs):
            p = os.path.join(sigs, f)
            with open(p) as fh:
                lines = [l for l in fh if "icloud" not in l and not l.startswith("prefix")
                         and not l.startswith("asn")]
            with open(p, "w") as fh:
                fh.writelines(lines)
        reload_and_wait("the new signature set is installed")
        send(10)
        time.sleep(1)
        check(count_alerts(out) == 20, "with icloud.com gone from the signatures, no more alerts")

        # 6. SIGTERM is a signal event of the delivery loop: the capture stops
        # at the next packet it reads (stdin stays open), the records written
        # so far are delivered, and the run ends normally with its summary.
        proc.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        try:
            send(10)
        except BrokenPipeError:
            pass
        try:
            rc = proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            rc = None
        check(rc == 0, f"SIGTERM: the run ends with exit status 0 (got {rc})")
        summary = open(err).read()
        m = re.search(r"applemon: (\d+) packets, .* (\d+) alerts, ", summary)
        check(m is not None and int(m.group(1)) < 150,
              "SIGTERM: the capture stopped before the packets sent after it (summary: "
              f"{m.group(1) if m else '?'} of 150 packets)")
        check(m is not None and f"json:{out}: {m.group(2)} delivered, 0 queued" in summary,
              "SIGTERM: every alert raised was delivered")
    finally:
        try:
            proc.stdin.close()
        except BrokenPipeError:
            pass
        proc.wait(timeout=60)
    print(f"operations: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
