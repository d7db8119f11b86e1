#!/usr/bin/env python3
"""Corpus tier: run applemon over every capture in ../shared/corpus and hold
it to what tshark and the issue's acceptance list say.

For every capture: applemon must run to the end (exit 0, or 1 for a capture
libpcap itself cannot finish), never crash. For every line of
corpus/*/names/*.tsv of kind sni, http and dns, a flow record must show the
name for the same client and server (recall at least 99%; misses listed);
every line of kind quic must be found (the QUIC Initial SNI). Then the
acceptance checks on specific captures. Skips, loudly, when the corpus is
absent.

usage: corpus_check.py APPLEMON SHARED_DIR OUT_DIR
"""
import json
import os
import subprocess
import sys

REQUIRED_RECALL = 0.99


def run_capture(applemon, path, out_dir):
    name = os.path.basename(path)
    out = os.path.join(out_dir, name + ".jsonl")
    if os.path.exists(out):
        os.unlink(out)
    # Suppression off: every detection is an alert the checks can see.
    conf = os.path.join(out_dir, "corpus.conf")
    if not os.path.exists(conf):
        with open(conf, "w", encoding="utf-8") as f:
            f.write("[alerts]\nsuppress = 0\n")
    p = subprocess.run([applemon, "-q", "--flows", "--sensor", "corpus", "-S", "signatures",
                        "-c", conf, "-r", path, "-o", "json:" + out],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
    records = []
    if os.path.exists(out):
        with open(out, encoding="utf-8") as f:
            for line in f:
                records.append(json.loads(line))
    return p.returncode, p.stderr.decode(errors="replace").strip(), records


def last(field):
    return field.split(",")[-1] if field else field


def same_endpoints(r, client, server):
    if r["src_ip"] == client and r["dest_ip"] == server:
        return True
    # tshark's ip.src/ip.dst hold only the IPv4 layers of a 4-in-6 or 6-in-4
    # tunnel, so some lines name the tunnel's outer addresses instead.
    t = r.get("tunnel")
    return bool(t) and {t["src_ip"], t["dest_ip"]} == {client, server}


def name_found(kind, client, server, port, name, flows):
    for r in flows:
        if not same_endpoints(r, client, server):
            continue
        if port and str(r["dest_port"]) != port:
            continue
        if kind == "sni" and r.get("sni") == name:
            return True
        if kind == "quic" and r.get("quic_sni") == name:
            return True
        if kind == "http" and r.get("http_host") == name:
            return True
        if kind == "dns" and name in r.get("dns_queries", []):
            return True
    return False


def check_names(tsv, flows, tally, misses, capture):
    with open(tsv, encoding="utf-8", errors="replace") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) != 5:
                continue
            kind, client, server, port, names = parts
            client, server, port = last(client), last(server), last(port)
            for name in names.split(",") if kind == "dns" else [names]:
                if not name:
                    continue
                if name.startswith("<") and name.endswith(">"):
                    # tshark's placeholder for a name it could not read
                    misses.append(f"{capture}: {kind} {name} (tshark placeholder, not counted)")
                    continue
                t = tally.setdefault(kind, [0, 0])
                t[0] += 1
                if name_found(kind, client, server, port, name, flows):
                    t[1] += 1
                else:
                    misses.append(f"{capture}: {kind} {client} -> {server}:{port} {name}")


def alerts_of(records):
    return [r for r in records if r["event_type"] == "alert"]


def acceptance(results):
    """The captures the issue names, and what each must (not) raise."""
    failures = []

    def need(capture, what, pred):
        recs = results.get(capture)
        if recs is None:
            failures.append(f"{capture}: not in the corpus")
            return
        if not any(pred(a) for a in alerts_of(recs)):
            failures.append(f"{capture}: no alert {what}")

    def ev(a, source, value=None, suffix=None):
        for e in a["evidence"]:
            if e["source"] != source:
                continue
            if value is not None and e["value"] == value:
                return True
            if suffix is not None and e["value"].endswith(suffix):
                return True
        return False

    need("whatsapp_login_call.pcap", "on push to 17.x.x.x:5223",
         lambda a: a["dest_ip"].startswith("17.") and a["dest_port"] == 5223 and a["service"] == "push")
    need("whatsapp_login_call.pcap", "on p53-buy.itunes.apple.com",
         lambda a: ev(a, "sni", "p53-buy.itunes.apple.com"))
    need("anyconnect-vpn.pcap", "on a courier.push.apple.com lookup",
         lambda a: a["app_proto"] == "dns" and ev(a, "dns_query", suffix="courier.push.apple.com"))
    need("android.pcap", "on HTTP captive.apple.com",
         lambda a: ev(a, "http_host", "captive.apple.com"))
    need("signal.pcap", "on the itunes.apple.com SNI at a non-Apple address",
         lambda a: ev(a, "sni", "itunes.apple.com") and not a["dest_ip"].startswith("17."))

    # Encrypted Client Hello: the outer SNI, and the flow marked.
    recs = results.get("tls_ech.pcapng", [])
    if not any(r["event_type"] == "flow" and r.get("ech") is True
               and r.get("sni") == "performance.radar.cloudflare.com" for r in recs):
        failures.append("tls_ech.pcapng: no flow record with \"ech\": true and the outer SNI")

    negatives = ["google_ssl.pcap", "chrome.pcap", "safari.pcap"]
    negatives += [c for c in results if c.startswith("zeek/")]
    for capture in negatives:
        for a in alerts_of(results.get(capture, [])):
            if a["confidence"] != "low":
                failures.append(f"{capture}: unexpected {a['confidence']} alert "
                                f"{a['service']} {a['evidence']}")
    return failures


def main():
    applemon, shared, out_dir = sys.argv[1:4]
    corpus = os.path.join(shared, "corpus")
    if not os.path.isdir(corpus):
        print(f"SKIP: {corpus} absent: corpus tier not run")
        return 0
    os.makedirs(out_dir, exist_ok=True)
    results, tally, misses, crashes = {}, {}, [], []
    for project in sorted(os.listdir(corpus)):
        pdir = os.path.join(corpus, project)
        if not os.path.isdir(pdir):
            continue
        for fname in sorted(os.listdir(pdir)):
            if not (fname.endswith(".pcap") or fname.endswith(".pcapng")):
                continue
            path = os.path.join(pdir, fname)
            rc, err, records = run_capture(applemon, path, out_dir)
            key = fname if project == "ndpi" else f"{project}/{fname}"
            results[key] = records
            if rc not in (0, 1):
                crashes.append(f"{key}: exit {rc}: {err[-200:]}")
            elif rc == 1:
                print(f"note: {key}: exit 1: {err.splitlines()[-1] if err else ''}")
            tsv = os.path.join(pdir, "names", fname + ".tsv")
            if os.path.exists(tsv):
                flows = [r for r in records if r["event_type"] == "flow"]
                check_names(tsv, flows, tally, misses, key)

    ok = True
    print(f"corpus: {len(results)} captures, "
          f"{sum(len(alerts_of(r)) for r in results.values())} alerts")
    for kind in sorted(tally):
        total, found = tally[kind]
        print(f"corpus: {kind:5s} names {found}/{total} found ({100.0 * found / total:.1f}%)")
    req_total = sum(tally.get(k, [0, 0])[0] for k in ("sni", "http", "dns"))
    req_found = sum(tally.get(k, [0, 0])[1] for k in ("sni", "http", "dns"))
    recall = req_found / req_total if req_total else 1.0
    print(f"corpus: sni+http+dns recall {100.0 * recall:.2f}% (need {100 * REQUIRED_RECALL:.0f}%)")
    for m in misses:
        print("  missed:", m)
    if recall < REQUIRED_RECALL:
        ok = False
    quic_total, quic_found = tally.get("quic", [0, 0])
    if quic_found < quic_total:
        print(f"FAIL: quic names {quic_found}/{quic_total}: every one is required")
        ok = False
    for c in crashes:
        print("FAIL: crash:", c)
        ok = False
    for f in acceptance(results):
        print("FAIL:", f)
        ok = False
    print("corpus: 1 passed, 0 failed" if ok else "corpus: 0 passed, 1 failed")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
