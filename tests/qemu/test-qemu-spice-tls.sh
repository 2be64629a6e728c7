#!/bin/bash
# SPICE over TLS (libvirt's qemu.conf spice_tls and its certificates, in
# host.conf). The test makes its own CA and a server certificate (openssl)
# in libvirt's /etc/pki/libvirt-spice layout in a directory host.conf's
# spice_tls_x509_cert_dir names, the key root's (0600). Checked: with
# spice_tls off a tlsPort is refused as libvirt refuses it; a missing
# server key refuses the start naming the file (nothing runs); a guest
# with autoport and <channel name='main' mode='secure'/> gets a plain and a
# TLS port from the SPICE range, both in the live dumpxml (--inactive: the
# stored autoport) and in domdisplay as virsh prints it; openssl s_client
# completes a handshake on the TLS port with the test's server certificate
# (verified against the test's CA); SPICE's main channel links over TLS
# (error 0) and is told to go secure on the plain port (error 5
# NEED_SECURED), where the inputs channel links; QEMU's uid cannot read the
# key once QEMU runs (it could only while starting); domxml-to-native shows
# tls-port and x509-dir. Runs in its own network namespace. Needs root,
# openssl, python3 and qemu.
set -u

SRC=${LV_SOURCE_ROOT:?}
. "$SRC/tests/lib/lvtest.sh"
. "$SRC/tests/qemu/qemu-test.sh"
command -v openssl >/dev/null || { echo "skip: no openssl"; exit 77; }
command -v python3 >/dev/null || { echo "skip: no python3"; exit 77; }
qemu_test_init --net
qemu_test_dirs qemu-spicetls
G=lvst$$
cleanup() {
    qemu_guests_end "$G"
    rm -rf "$T"
}
trap cleanup EXIT INT TERM

# ---- the certificates ----
P=$T/pki
mkdir -p "$P" && chmod 0755 "$P"
ossl() { openssl "$@" > "$T/openssl.log" 2>&1 || { echo "FAIL: openssl $1: $(cat "$T/openssl.log")"; exit 1; }; }
ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
    -keyout "$T/ca-key.pem" -out "$P/ca-cert.pem" -subj "/CN=litevirt spice test CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
ossl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$P/server-key.pem" \
    -out "$T/server.csr" -subj "/CN=spice-$G"
printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=critical,CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n' > "$T/ext"
ossl x509 -req -in "$T/server.csr" -CA "$P/ca-cert.pem" -CAkey "$T/ca-key.pem" -CAcreateserial \
    -days 2 -out "$P/server-cert.pem" -extfile "$T/ext"
chmod 0600 "$P/server-key.pem"
chmod 0644 "$P/ca-cert.pem" "$P/server-cert.pem"
ok "certificates made"

# no boot media: SeaBIOS finds nothing to boot, SPICE listens all the same
GUEST_KERNEL="" GUEST_MEM=96 \
    GUEST_TOP="<uuid>5b1c3e9a-7d3f-4c41-9a51-000000000$(printf %03d $(($$ % 1000)))</uuid>" \
    qemu_guest_define "$G" "<graphics type='spice' autoport='yes' listen='127.0.0.1'>
      <channel name='main' mode='secure'/>
    </graphics>
    <video><model type='qxl'/></video>"

# ---- spice_tls off: a fixed tlsPort is refused, as libvirt refuses it ----
sed "s/<graphics type='spice' autoport='yes'/<graphics type='spice' port='5990' tlsPort='5991' autoport='no'/" \
    "$T/$G.xml" > "$T/fixed.xml"
out=$("$LVSH" define "$T/fixed.xml" 2>&1) || fail "define with tlsPort: $out"
out=$("$LVSH" start "$G" 2>&1)
[ $? != 0 ] && [[ "$out" == *"TLS is disabled in host.conf"* ]] &&
    ok "spice_tls off: tlsPort refused (${out##*error: })" || fail "spice_tls off: $out"
[[ "$out" != *"guest '$G': guest '$G'"* ]] && ok "the refusal names the guest once" ||
    fail "the guest named twice: $out"
out=$("$LVSH" define "$T/$G.xml" 2>&1) || fail "define again: $out"
cat > "$LITEVIRT_CONFDIR/host.conf" <<CONF
spice_tls = 1
spice_tls_x509_cert_dir = $P
spice_port_min = 5950
spice_port_max = 5999
CONF

# ---- a missing key: refused naming it, before QEMU starts ----
mv "$P/server-key.pem" "$T/server-key.pem"
out=$("$LVSH" start "$G" 2>&1)
[ $? != 0 ] && [[ "$out" == *"'$P/server-key.pem'"*"No such file"* ]] &&
    ok "missing server key: refused naming it (${out##*error: })" || fail "missing key: $out"
[ -z "$(qemu_pid "$G")" ] || fail "missing key: QEMU started"
grep -q "starting QEMU" "$LITEVIRT_LOGDIR/$G.log" 2>/dev/null && fail "missing key: QEMU was started"
mv "$T/server-key.pem" "$P/server-key.pem"

# ---- started: both ports, live ----
out=$("$LVSH" start "$G" 2>&1) || fail "start: $out"
live=$("$LVSH" dumpxml "$G")
port=$(echo "$live" | sed -n "s/.*<graphics type='spice' port='\([0-9]*\)'.*/\1/p")
tls=$(echo "$live" | sed -n "s/.*<graphics type='spice'.* tlsPort='\([0-9]*\)'.*/\1/p")
if [ -n "$port" ] && [ -n "$tls" ] && [ "$port" -ge 5950 ] && [ "$tls" -ge 5950 ] &&
    [ "$tls" -le 5999 ] && [ "$port" != "$tls" ]; then
    ok "live dumpxml: port $port, tlsPort $tls (from the SPICE range)"
else
    fail "live graphics: $(echo "$live" | grep "<graphics")"
fi
echo "$live" | grep -q "<channel name='main' mode='secure'/>" && ok "live dumpxml keeps the channel mode" ||
    fail "channel: $(echo "$live" | grep -A3 "<graphics")"
"$LVSH" dumpxml --inactive "$G" | grep -q "<graphics type='spice' port='-1' autoport='yes' listen='127.0.0.1'>" &&
    ok "--inactive: the stored autoport" || fail "--inactive: $("$LVSH" dumpxml --inactive "$G" | grep "<graphics")"
disp=$("$LVSH" domdisplay "$G")
[ "$disp" = "spice://127.0.0.1:$port?tls-port=$tls" ] && ok "domdisplay: $disp" || fail "domdisplay: '$disp'"
pid=$(qemu_pid "$G")
tr '\0' ' ' < "/proc/$pid/cmdline" | grep -q "tls-port=$tls,addr=127.0.0.1,disable-ticketing=on,x509-dir=$P,tls-channel=main" &&
    ok "QEMU runs with tls-port, x509-dir and tls-channel=main" || fail "cmdline: $(tr '\0' ' ' < "/proc/$pid/cmdline")"

# ---- the TLS port: a handshake with the server certificate ----
out=$(timeout 20 openssl s_client -connect "127.0.0.1:$tls" -CAfile "$P/ca-cert.pem" \
      -verify_return_error -brief < /dev/null 2>&1)
if [ $? = 0 ] && [[ "$out" == *"Verification: OK"* ]] && [[ "$out" == *"CN = spice-$G"* ]]; then
    ok "openssl s_client: TLS handshake on $tls, server certificate CN=spice-$G verified"
else
    fail "s_client on $tls: $out"
fi
e=$(timeout 20 python3 "$SRC/tests/qemu/spice-link.py" 127.0.0.1 "$tls" 1 "$P/ca-cert.pem" 2>&1)
[ "$e" = 0 ] && ok "SPICE main channel links over TLS (error 0)" || fail "main over TLS: $e"
e=$(timeout 20 python3 "$SRC/tests/qemu/spice-link.py" 127.0.0.1 "$port" 1 2>&1)
[ "$e" = 5 ] && ok "plain port answers; main channel there: NEED_SECURED (5)" || fail "main on the plain port: $e"
e=$(timeout 20 python3 "$SRC/tests/qemu/spice-link.py" 127.0.0.1 "$port" 3 2>&1)
[ "$e" != 5 ] && [[ "$e" =~ ^[0-9]+$ ]] && ok "inputs channel on the plain port: not told to go secure ($e)" ||
    fail "inputs on the plain port: $e"

# ---- QEMU's uid could read the key only while starting ----
uid=$(sed -n 's/.*"uid": *\([0-9]*\).*/\1/p' "$LITEVIRT_RUNDIR/$G/qemu.json" | head -n1)
if [ -n "$uid" ] && [ "$uid" != 0 ]; then
    setpriv --reuid="$uid" --regid="$uid" --clear-groups cat "$P/server-key.pem" >/dev/null 2>&1 &&
        fail "QEMU's uid $uid still reads the key" || ok "QEMU's uid $uid cannot read the key any more"
    acl=$(python3 -c "import os,sys; print(' '.join(x for x in os.listxattr(sys.argv[1]) if 'acl' in x or 'litevirt' in x))" "$P/server-key.pem")
    [ -z "$acl" ] && [ "$(stat -c %a:%u "$P/server-key.pem")" = 600:0 ] && ok "the key: root's, 0600, no ACL left" ||
        fail "the key: $(stat -c %a:%u "$P/server-key.pem") $acl"
else
    fail "no QEMU uid in qemu.json"
fi
"$LVSH" destroy "$G" >/dev/null || fail "destroy"

# ---- domxml-to-native: what libvirt would run ----
out=$("$LVSH" domxml-to-native qemu-argv "$T/fixed.xml" 2>&1)
echo "$out" | grep -q -- "-spice port=5990,tls-port=5991,addr=127.0.0.1,disable-ticketing=on,x509-dir=$P,tls-channel=main,seamless-migration=on" &&
    ok "domxml-to-native: -spice with tls-port and x509-dir" || fail "domxml-to-native: $(echo "$out" | grep -- -spice)"

lvtest_sanitizer_check
echo "$fails failure(s)"
[ "$fails" = 0 ]
