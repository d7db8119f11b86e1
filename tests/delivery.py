#!/usr/bin/env python3
"""Delivery tests against a real rsyslog on loopback.

Usage: tests/delivery.py APPLEMON

Starts rsyslogd (Debian's, with imrelp and the OpenSSL stream driver) with
its own configuration, PID file and work folder under tests/out/delivery,
listening on free 127.0.0.1 ports: UDP (imudp), TCP (imptcp, octet-counted
or newline framing), TLS (imtcp + ossl, with a CA and server certificate
made here by openssl), RELP (imrelp) and a local datagram socket
(imuxsock). Each received message's MSG part is written to a file per
transport, and compared with applemon's own JSON file sink:

 1. the demo capture's alerts arrive over every transport and format;
 2. RELP: rsyslog is killed (SIGKILL) in the middle of a capture and
    started again: the receiver ends up with every alert the JSON file
    holds (a resent duplicate is allowed and counted, a missing one fails);
 3. TCP: rsyslog is stopped for several seconds while alerts are raised,
    then started again: every alert raised while it was away arrives;
 4. the same as 3 with 100,000 alerts (suppression off) and a spool.

Captures are fed through a pipe in parts (scripts/make-alert-capture), so
"in the middle" is exact: a part is sent only once the previous one has
reached the JSON file. Needs root, rsyslogd with imrelp/lmnsd_ossl and
openssl: without them it says SKIP (CI installs them: scripts/install-deps).
Every wait is bounded; the script ends rsyslog itself.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time

APPLEMON = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "./applemon")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "out", "delivery")
GEN = os.path.join(ROOT, "scripts", "make-alert-capture")
MODDIR = "/usr/lib/x86_64-linux-gnu/rsyslog"

passed = 0
failed = 0


def ok(msg):
    global passed
    passed += 1
    print("ok   " + msg, flush=True)


def bad(msg):
    global failed
    failed += 1
    print("FAIL " + msg, flush=True)


def check(cond, msg):
    (ok if cond else bad)(msg)
    return cond


def skip(why):
    print("SKIP delivery tests: " + why)
    print("delivery: 0 passed, 0 failed")
    sys.exit(0)


def free_port(kind=socket.SOCK_STREAM):
    s = socket.socket(socket.AF_INET, kind)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_for(pred, timeout, step=0.05):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(step)
    return pred()


def lines(path):
    try:
        with open(path, "rb") as f:
            return [l.rstrip(b"\n") for l in f.read().split(b"\n") if l.strip()]
    except FileNotFoundError:
        return []


def msg_body(line):
    """The JSON body of a received message (rsyslog's %msg%)."""
    i = line.find(b"{")
    return line[i:] if i >= 0 else line.strip()


def alerts_in(path):
    return [l for l in lines(path) if b'"event_type":"alert"' in l]


# ---- rsyslog -------------------------------------------------------------

class Rsyslog:
    def __init__(self):
        self.dir = os.path.join(OUT, "rsyslog")
        os.makedirs(self.dir, exist_ok=True)
        self.ports = {
            "udp": free_port(socket.SOCK_DGRAM),
            "tcp": free_port(),
            "tls": free_port(),
            "relp": free_port(),
        }
        self.sock = os.path.join(self.dir, "log.sock")
        self.proc = None
        self.make_certs()
        self.write_conf()

    def make_certs(self):
        d = os.path.join(self.dir, "tls")
        os.makedirs(d, exist_ok=True)
        self.ca = os.path.join(d, "ca.pem")

        def run(*args):
            subprocess.run(["openssl"] + list(args), cwd=d, check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
            "/CN=applemon test CA", "-keyout", "ca-key.pem", "-out", "ca.pem")
        run("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost",
            "-keyout", "server-key.pem", "-out", "server.csr")
        with open(os.path.join(d, "ext.cnf"), "w") as f:
            f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
        run("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca-key.pem",
            "-CAcreateserial", "-days", "2", "-extfile", "ext.cnf", "-out", "server.pem")
        self.tls_dir = d

    def write_conf(self):
        d, p, t = self.dir, self.ports, self.tls_dir
        conf = f'''
global(workDirectory="{d}" net.enableDNS="off" maxMessageSize="64k"
       defaultNetstreamDriverCAFile="{t}/ca.pem"
       defaultNetstreamDriverCertFile="{t}/server.pem"
       defaultNetstreamDriverKeyFile="{t}/server-key.pem")
main_queue(queue.type="Direct")
module(load="imudp")
module(load="imptcp")
module(load="imrelp")
module(load="imuxsock" SysSock.Use="off")
module(load="imtcp" StreamDriver.Name="ossl" StreamDriver.Mode="1" StreamDriver.AuthMode="anon")
template(name="raw" type="string" string="%msg%\\n")
ruleset(name="udp") {{ action(type="omfile" file="{d}/udp.log" template="raw") }}
ruleset(name="tcp") {{ action(type="omfile" file="{d}/tcp.log" template="raw") }}
ruleset(name="tls") {{ action(type="omfile" file="{d}/tls.log" template="raw") }}
ruleset(name="relp") {{ action(type="omfile" file="{d}/relp.log" template="raw") }}
ruleset(name="unix") {{ action(type="omfile" file="{d}/unix.log" template="raw") }}
input(type="imudp" address="127.0.0.1" port="{p['udp']}" ruleset="udp")
input(type="imptcp" address="127.0.0.1" port="{p['tcp']}" ruleset="tcp")
input(type="imtcp" address="127.0.0.1" port="{p['tls']}" ruleset="tls")
input(type="imrelp" address="127.0.0.1" port="{p['relp']}" ruleset="relp")
input(type="imuxsock" Socket="{self.sock}" ruleset="unix" CreatePath="on")
'''
        self.conf = os.path.join(d, "rsyslog.conf")
        with open(self.conf, "w") as f:
            f.write(conf)

    def log(self, name):
        return os.path.join(self.dir, name + ".log")

    def clear_logs(self):
        """Removes the received files; rsyslog closes its own on SIGHUP and
        opens them anew on the next message."""
        for n in ("udp", "tcp", "tls", "relp", "unix"):
            try:
                os.unlink(self.log(n))
            except FileNotFoundError:
                pass
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGHUP)
            time.sleep(0.5)

    def listening(self):
        for k in ("tcp", "tls", "relp"):
            try:
                socket.create_connection(("127.0.0.1", self.ports[k]), timeout=0.2).close()
            except OSError:
                return False
        return True

    def start(self):
        pid = os.path.join(self.dir, "rsyslogd.pid")
        if os.path.exists(pid):
            os.unlink(pid)
        self.proc = subprocess.Popen(
            ["rsyslogd", "-n", "-f", self.conf, "-i", pid],
            stdout=open(os.path.join(self.dir, "rsyslogd.out"), "ab"), stderr=subprocess.STDOUT)
        if not wait_for(self.listening, 15):
            raise RuntimeError("rsyslogd did not start; see " + self.dir + "/rsyslogd.out")

    def stop(self, sig=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


# ---- applemon ------------------------------------------------------------

def write_conf(name, text):
    path = os.path.join(OUT, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def one_worker():
    """Parts fed through a pipe must be processed as they come: one
    packet thread (with several, a part may wait for the next)."""
    h = subprocess.run([APPLEMON, "--help"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    return ["--workers", "1"] if b"--workers" in h.stdout else []


def capture_part(count, start, header):
    args = [sys.executable, GEN, "-", str(count), "--start", str(start)]
    if not header:
        args.append("--no-header")
    return subprocess.run(args, check=True, stdout=subprocess.PIPE).stdout


class Feeder:
    """applemon reading a capture from a pipe, fed part by part."""

    def __init__(self, name, conf, sinks):
        self.json = os.path.join(OUT, name + ".json")
        if os.path.exists(self.json):
            os.unlink(self.json)
        args = [APPLEMON, "-S", os.path.join(ROOT, "signatures"), "--sensor", "test",
                "-c", conf, "-r", "-", "-o", "json:" + self.json] + one_worker()
        for s in sinks:
            args += ["-o", s]
        self.err = os.path.join(OUT, name + ".err")
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                     stderr=open(self.err, "wb"))
        self.sent = 0

    def send(self, count, timeout=120):
        """Sends `count` more alerts and waits until the JSON file has them."""
        self.proc.stdin.write(capture_part(count, self.sent, self.sent == 0))
        self.proc.stdin.flush()
        self.sent += count
        return wait_for(lambda: len(alerts_in(self.json)) >= self.sent, timeout, 0.1)

    def finish(self, timeout=180):
        self.proc.stdin.close()
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = -1
        return rc

    def stderr(self):
        with open(self.err, errors="replace") as f:
            return f.read()


def compare(name, json_path, received_path, timeout=60):
    """Every alert of the JSON file is in the receiver's file."""
    want = [l for l in alerts_in(json_path)]
    wset = set(want)
    wait_for(lambda: wset <= set(msg_body(l) for l in lines(received_path)), timeout, 0.2)
    got = [msg_body(l) for l in lines(received_path)]
    gset = set(got)
    missing = len(wset - gset)
    dups = len(got) - len(gset)
    print(f"     {name}: file sink {len(want)} alerts, receiver {len(got)} messages, "
          f"{missing} missing, {dups} duplicates", flush=True)
    return len(want) > 0 and missing == 0


# ---- the tests -------------------------------------------------------------

def test_transports(rs):
    rs.clear_logs()
    p = rs.ports
    sinks = {
        "udp": f"syslog:udp://127.0.0.1:{p['udp']}",
        "tcp": f"syslog:tcp://127.0.0.1:{p['tcp']}",
        "tls": f"syslog:tls://127.0.0.1:{p['tls']},ca={rs.ca}",
        "relp": f"syslog:relp://127.0.0.1:{p['relp']}",
        "unix": f"syslog:unix:{rs.sock}",
    }
    conf = write_conf("transports.conf", "[delivery]\nflush_timeout = 30\nreconnect_max = 1\n")
    json_path = os.path.join(OUT, "transports.json")
    if os.path.exists(json_path):
        os.unlink(json_path)
    args = [APPLEMON, "-q", "-S", os.path.join(ROOT, "signatures"), "--sensor", "test", "-c", conf,
            "-r", os.path.join(ROOT, "pcaps", "demo.pcap"), "-o", "json:" + json_path]
    for s in sinks.values():
        args += ["-o", s]
    rc = subprocess.run(args, stderr=subprocess.PIPE, timeout=120).returncode
    check(rc == 0, f"transports: applemon exit status {rc}")
    for name in sinks:
        check(compare(name, json_path, rs.log(name), 10),
              f"{name}: every alert of the demo capture arrives")

    # Framing, RFC 3164 and the other body formats over TCP.
    rs.clear_logs()
    variants = [
        ("lf", f"syslog:tcp://127.0.0.1:{p['tcp']},framing=lf", b'"event_type":"alert"'),
        ("3164", f"syslog:tcp://127.0.0.1:{p['tcp']},rfc=3164,format=cef", b"CEF:0|applemon|"),
        ("leef", f"syslog:relp://127.0.0.1:{p['relp']},format=leef", b"LEEF:2.0|applemon|"),
        ("ecs", f"syslog:tls://127.0.0.1:{p['tls']},ca={rs.ca},format=ecs",
         b'"event":{"kind":"alert"'),
    ]
    args = [APPLEMON, "-q", "-S", os.path.join(ROOT, "signatures"), "--sensor", "test", "-c", conf,
            "-r", os.path.join(ROOT, "pcaps", "demo.pcap")]
    for _, s, _ in variants:
        args += ["-o", s]
    subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)
    for name, _, marker in variants:
        log = {"lf": "tcp", "3164": "tcp", "leef": "relp", "ecs": "tls"}[name]
        wait_for(lambda: sum(marker in l for l in lines(rs.log(log))) >= 7, 10, 0.1)
        n = sum(marker in l for l in lines(rs.log(log)))
        check(n == 7, f"{name}: 7 alerts arrive in the expected body format (got {n})")

    # A TLS receiver whose certificate the CA did not sign is refused.
    other = os.path.join(OUT, "other-ca.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=other", "-keyout", os.path.join(OUT, "other-key.pem"),
                    "-out", other], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    rs.clear_logs()
    conf2 = write_conf("tls-bad.conf", "[delivery]\nflush_timeout = 2\nreconnect_max = 1\n")
    r = subprocess.run([APPLEMON, "-S", os.path.join(ROOT, "signatures"), "-c", conf2,
                        "-r", os.path.join(ROOT, "pcaps", "demo.pcap"),
                        "-o", f"syslog:tls://127.0.0.1:{p['tls']},ca={other}"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=60)
    err = r.stderr.decode(errors="replace")
    check(len(lines(rs.log("tls"))) == 0 and "certificate verify failed" in err and
          "7 dropped" in err,
          "tls: a receiver the CA did not sign gets nothing; the drop is logged and counted")


def test_restart(rs, name, transport, total, parts, down_seconds, sig, extra_conf=""):
    rs.clear_logs()
    port = rs.ports[transport]
    conf = write_conf(name + ".conf",
                      "[alerts]\nsuppress = 0\n[delivery]\nflush_timeout = 120\n"
                      "reconnect_max = 1\n" + extra_conf)
    f = Feeder(name, conf, [f"syslog:{transport}://127.0.0.1:{port}"])
    per = total // parts
    ok_send = f.send(per)
    # The receiver goes away in the middle of the capture...
    rs.stop(sig)
    down_start = len(alerts_in(f.json))
    for _ in range(parts - 2):
        ok_send &= f.send(per)
    raised_while_down = len(alerts_in(f.json)) - down_start
    time.sleep(down_seconds)
    # ... and comes back; the rest of the capture follows.
    rs.start()
    ok_send &= f.send(total - per * (parts - 1))
    rc = f.finish()
    err = f.stderr()
    check(ok_send and rc == 0, f"{name}: applemon read the capture in parts, exit status {rc}")
    print(f"     {name}: {raised_while_down} alerts raised while the receiver was away", flush=True)
    summary = [l for l in err.splitlines() if "output syslog" in l and " delivered, " in l]
    if summary:
        print("     " + summary[0], flush=True)
    check(compare(name, f.json, rs.log(transport)),
          f"{name}: the receiver holds every alert of the JSON file ({total})")
    return err


def main():
    if not os.access(APPLEMON, os.X_OK):
        print("delivery: no binary " + APPLEMON)
        return 1
    if os.geteuid() != 0:
        skip("not root (rsyslogd needs it)")
    for tool in ("rsyslogd", "openssl"):
        if not shutil.which(tool):
            skip(tool + " not installed (scripts/install-deps installs it)")
    for mod in ("imrelp.so", "lmnsd_ossl.so", "imptcp.so"):
        if not os.path.exists(os.path.join(MODDIR, mod)):
            skip(f"rsyslog module {mod} missing (rsyslog-relp, rsyslog-openssl)")
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    rs = Rsyslog()
    try:
        rs.start()
        test_transports(rs)
        test_restart(rs, "relp-kill", "relp", 20000, 4, 1, signal.SIGKILL)
        test_restart(rs, "tcp-stop", "tcp", 20000, 4, 4, signal.SIGTERM)
        spool = os.path.join(OUT, "spool")
        test_restart(rs, "tcp-100k", "tcp", 100000, 4, 4, signal.SIGTERM,
                     f"memory = 1048576\nspool_dir = {spool}\n")
    finally:
        rs.stop()
    print(f"delivery: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
