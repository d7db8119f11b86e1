#!/usr/bin/env python3
"""flood.py - flood captures for tests/faults.sh, written to standard output.

    tests/flood.py flows N [K]   N packets, each opening a flow of its own
                                 (with K: only K distinct flows, repeated)
    tests/flood.py dns N [other] N DNS answers of 40 addresses each (with
                                 other: for names that are not Apple's)

`flows`: raw IPv4 (DLT_RAW), alternately a TCP SYN and a UDP datagram from
a distinct client 10.x.y.z to 192.0.2.1 (no Apple address, no payload to
inspect), 1 us apart, so idle timeouts never end a flow and only eviction
keeps the table within [flows] max.
`dns`: Ethernet, UDP answers from a resolver 10.20.0.1:53 to 10.20.1.11 on
one of 256 ports, each for x<i>.icloud.com (an Apple name, so every address
is offered to the DNS cache) with 40 distinct A records (TTL 3600), 10 us
apart; only [dns] cache_max bounds what is remembered.
The K and `other` forms move the same number of packets and bytes without
growing the table under test: the baseline a memory bound is measured from.
Deterministic, standard library only; piped straight into applemon -r -.
"""
import struct
import sys

T0 = 1768467600            # 2026-01-15T09:00:00Z


def pcap_header(linktype):
    return struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, linktype)


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def flows(n, out, distinct=None):
    out.write(pcap_header(101))
    dst = bytes([192, 0, 2, 1])
    buf = bytearray()
    for j in range(n):
        i = j % distinct if distinct else j
        src = bytes([10, (i >> 16) & 255, (i >> 8) & 255, i & 255])
        sport = 1024 + (i % 60000)
        if i % 2 == 0:
            l4 = struct.pack("!HHIIBBHHH", sport, 80, i, 0, 5 << 4, 0x02, 1024, 0, 0)
            proto = 6
        else:
            l4 = struct.pack("!HHHH", sport, 9999, 8, 0)
            proto = 17
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), i & 0xFFFF, 0, 64, proto, 0,
                         src, dst)
        pkt = ip + l4
        ts = j
        buf += struct.pack("<IIII", T0 + ts // 1000000, ts % 1000000, len(pkt), len(pkt)) + pkt
        if len(buf) > 1 << 20:
            out.write(buf)
            buf = bytearray()
    out.write(buf)


def dns(n, out, other=False):
    out.write(pcap_header(1))
    eth = bytes.fromhex("3c22fb14010b" "000db9200001" "0800")
    resolver, client = bytes([10, 20, 0, 1]), bytes([10, 20, 1, 11])
    buf = bytearray()
    for i in range(n):
        domain = b"example" if other else b"icloud"
        qname = b"".join(bytes([len(l)]) + l for l in (b"x%d" % i, domain, b"com")) + b"\0"
        msg = struct.pack("!HHHHHH", i & 0xFFFF, 0x8180, 1, 40, 0, 0) + qname + b"\0\x01\0\x01"
        for k in range(40):
            a = 0x11000000 + ((i * 40 + k) % 0xFFFFFF)       # 17.0.0.0/8 and on
            msg += struct.pack("!HHHIHI", 0xC00C, 1, 1, 3600, 4, a)
        udp = struct.pack("!HHHH", 53, 40000 + (i % 256), 8 + len(msg), 0) + msg
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), i & 0xFFFF, 0, 64, 17, 0,
                         resolver, client)
        ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
        frame = eth + ip + udp
        ts = i * 10
        buf += struct.pack("<IIII", T0 + ts // 1000000, ts % 1000000, len(frame), len(frame))
        buf += frame
        if len(buf) > 1 << 20:
            out.write(buf)
            buf = bytearray()
    out.write(buf)


def main():
    if len(sys.argv) not in (3, 4) or sys.argv[1] not in ("flows", "dns"):
        sys.exit("usage: flood.py flows N [K] | dns N [other]")
    kind, n = sys.argv[1], int(sys.argv[2])
    extra = sys.argv[3] if len(sys.argv) == 4 else None
    try:
        if kind == "flows":
            flows(n, sys.stdout.buffer, int(extra) if extra else None)
        else:
            dns(n, sys.stdout.buffer, extra == "other")
    except BrokenPipeError:
        sys.exit(1)


if __name__ == "__main__":
    main()
