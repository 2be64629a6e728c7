#!/usr/bin/env python3
# VNC authentication (RFB 3.8, security type 2) against 127.0.0.1:PORT with
# PASSWORD; prints "ok", "refused" or "no-vnc-auth". DES through openssl(1).
#   vnc-auth.py PORT PASSWORD
import socket, subprocess, sys
def rev(b):
    return int('{:08b}'.format(b)[::-1], 2)
def auth(port, password):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.recv(12); s.sendall(b"RFB 003.008\n")
    n = s.recv(1)[0]; types = s.recv(n)
    if 2 not in types:
        return "no-vnc-auth"
    s.sendall(b"\x02")
    chal = b""
    while len(chal) < 16:
        chal += s.recv(16 - len(chal))
    key = bytes(rev(c) for c in password.encode()[:8].ljust(8, b"\0"))
    resp = subprocess.run(["openssl", "enc", "-des-ecb", "-nopad", "-K", key.hex(),
                           "-provider", "legacy", "-provider", "default"],
                          input=chal, capture_output=True, check=True).stdout
    s.sendall(resp)
    res = s.recv(4)
    return "ok" if res == b"\0\0\0\0" else "refused"
print(auth(int(sys.argv[1]), sys.argv[2]))
