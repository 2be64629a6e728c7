#!/usr/bin/env python3
# A SPICE client's first message (SpiceLinkMess, spice-protocol's
# spice/protocol.h) on HOST:PORT for one channel type, optionally over TLS
# checked against CAFILE: prints the server's link reply error code (0 OK,
# 5 SPICE_LINK_ERR_NEED_SECURED, 6 ..._NEED_UNSECURED), or fails.
#   spice-link.py HOST PORT CHANNEL-TYPE [CAFILE]
# Channel types: 1 main, 2 display, 3 inputs.
import socket
import ssl
import struct
import sys


def read_exact(s, n):
    data = b""
    while len(data) < n:
        chunk = s.recv(n - len(data))
        if not chunk:
            raise SystemExit("connection closed after %d of %d bytes" % (len(data), n))
        data += chunk
    return data


def main():
    host, port, chan = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    s = socket.create_connection((host, port), timeout=10)
    if len(sys.argv) > 4:
        ctx = ssl.create_default_context(cafile=sys.argv[4])
        ctx.check_hostname = False  # the certificate names the test's CN
        s = ctx.wrap_socket(s, server_hostname=host)
    # SpiceLinkMess: connection_id, channel_type, channel_id, num_common_caps,
    # num_channel_caps, caps_offset (packed, 18 bytes)
    mess = struct.pack("<IBBIII", 0, chan, 0, 0, 0, 18)
    s.sendall(b"REDQ" + struct.pack("<III", 2, 2, len(mess)) + mess)
    head = read_exact(s, 16)
    if head[:4] != b"REDQ":
        raise SystemExit("not a SPICE reply: %r" % head[:4])
    (error,) = struct.unpack("<I", read_exact(s, 4))
    print(error)


main()
