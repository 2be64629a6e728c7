#!/usr/bin/env python3
"""What crosses a link, as a capture on it shows (tests/migration/test-migrate-tls.sh).

sniff-tcp.py IFACE READY OUT: captures the TCP segments on IFACE (AF_PACKET,
run inside the network namespace of the link) until SIGTERM, touching READY
once capturing; then writes to OUT one line per TCP stream that carried data:
    SRC:PORT DST:PORT BYTES HEX(first 16 bytes of the stream) QEVM(0/1)
QEVM is 1 when QEMU's migration stream magic "QEVM" appears in the stream's
bytes (searched across segment boundaries, in order of sequence numbers as
they arrived)."""
import signal
import socket
import struct
import sys

iface, ready, out = sys.argv[1:4]
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.ntohs(0x0003))
s.bind((iface, 0))
s.settimeout(0.2)
open(ready, "w").close()

flows = {}  # (src, sport, dst, dport) -> [bytes, first bytes, tail, qevm]
stop = False


def on_term(*_):
    global stop
    stop = True


signal.signal(signal.SIGTERM, on_term)
while not stop:
    try:
        pkt, addr = s.recvfrom(65600)
    except socket.timeout:
        continue
    except InterruptedError:
        continue
    if len(pkt) < 34 or struct.unpack("!H", pkt[12:14])[0] != 0x0800:
        continue
    ip = pkt[14:]
    ihl = (ip[0] & 0x0F) * 4
    if ip[9] != 6:
        continue
    total = struct.unpack("!H", ip[2:4])[0]
    src, dst = socket.inet_ntoa(ip[12:16]), socket.inet_ntoa(ip[16:20])
    tcp = ip[ihl:total]
    if len(tcp) < 20:
        continue
    sport, dport = struct.unpack("!HH", tcp[0:4])
    data = tcp[(tcp[12] >> 4) * 4:]
    if not data:
        continue
    f = flows.setdefault((src, sport, dst, dport), [0, b"", b"", 0])
    f[0] += len(data)
    if len(f[1]) < 16:
        f[1] += data[: 16 - len(f[1])]
    if b"QEVM" in f[2] + data:
        f[3] = 1
    f[2] = data[-3:]

with open(out, "w") as o:
    for (src, sport, dst, dport), (n, first, _, qevm) in flows.items():
        o.write("%s:%d %s:%d %d %s %d\n" % (src, sport, dst, dport, n, first.hex(), qevm))
