#!/bin/bash
# migrate --tls between two "hosts" (tests/lib/hosts.sh). The test makes
# its own CA and, per host, server and client certificates (openssl) in
# libvirt's /etc/pki/qemu layout, named by host.conf's
# migrate_tls_x509_cert_dir; the private keys are root's (0600). Checked:
# a missing certificate file, on either host, is refused naming the file
# before anything starts (nothing on B, the guest counts on A); a counting
# guest moves A -> B with --tls, and a capture on B's end of the link
# shows a TLS handshake and no plaintext "QEVM" (QEMU's stream magic),
# where a migration without --tls, captured the same way, shows it; the
# keys carry no ACL afterwards (QEMU's uid read them only while loading
# them); a destination whose certificate another CA signed is refused by
# the source's QEMU and the guest keeps running on the source with its
# lease; --tls --tunnelled and --tls --copy-storage-all are refused.
# Needs root, ip, nsenter, openssl, python3, qemu-system-x86_64 and the
# test guest; else 77.
set -u

. "${LV_SOURCE_ROOT:?}/tests/lib/hosts-guest.sh"
hosts_guest_require ip nsenter openssl python3

T=$(mktemp -d /tmp/lv-test-migtls.XXXXXX)
chmod 0711 "$T"
G=lvtls$$
HOSTS_DIR=$T HOSTS_TAG=lvtls HOSTS_NET=10.86.0 HOSTS_SUP=$SUP
. "$SRC/tests/lib/hosts.sh"
hosts_guest_begin

lease() { cat "$T"/lockspace/*.owner 2>/dev/null; }
qemu_pid() { sed -n 's/.*"pid":\([0-9]*\).*/\1/p' "$T/$1/run/$G/qemu.json" 2>/dev/null | head -n1; }
lease_on() { grep -q "^host=$1$" <(lease) && grep -q "^state=held$" <(lease); }

# ---- certificates: one CA, each host's server and client pair; a second
# CA that signs an impostor's server certificate ----
ossl() { openssl "$@" > "$T/openssl.log" 2>&1 || { echo "openssl $1 failed: $(cat "$T/openssl.log")"; exit 1; }; }
make_ca() { # DIR
    mkdir -p "$1" && chmod 0755 "$1"
    ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
        -keyout "$1/ca-key.pem" -out "$1/ca-cert.pem" -subj "/CN=litevirt test CA $(basename "$1")" \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
}
make_cert() { # CA-DIR DIR ROLE CN IP
    ossl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$2/$3-key.pem" \
        -out "$T/$3.csr" -subj "/CN=$4"
    printf 'subjectAltName=IP:%s,DNS:%s\nbasicConstraints=critical,CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth\n' \
        "$5" "$4" > "$T/ext"
    ossl x509 -req -in "$T/$3.csr" -CA "$1/ca-cert.pem" -CAkey "$1/ca-key.pem" -CAcreateserial \
        -days 2 -out "$2/$3-cert.pem" -extfile "$T/ext"
    chmod 0600 "$2/$3-key.pem"
    chmod 0644 "$2/$3-cert.pem"
}
make_ca "$T/ca"
for h in a b; do
    ip=$HOSTS_NET.1; [ $h = b ] && ip=$HOSTS_NET.2
    mkdir -p "$T/pki-$h" && chmod 0755 "$T/pki-$h"
    cp "$T/ca/ca-cert.pem" "$T/pki-$h/"
    make_cert "$T/ca" "$T/pki-$h" server host-$h "$ip"
    make_cert "$T/ca" "$T/pki-$h" client host-$h "$ip"
done
make_ca "$T/evil-ca"
mkdir -p "$T/pki-evil" && chmod 0755 "$T/pki-evil"
cp "$T/evil-ca/ca-cert.pem" "$T/pki-evil/"
make_cert "$T/evil-ca" "$T/pki-evil" server host-b "$HOSTS_NET.2"
make_cert "$T/evil-ca" "$T/pki-evil" client host-b "$HOSTS_NET.2"
# B with a client certificate of the impostor's CA: B trusts both CAs (QEMU
# checks its own certificate against them), A only its own
mkdir -p "$T/pki-b-badclient" && chmod 0755 "$T/pki-b-badclient"
cat "$T/ca/ca-cert.pem" "$T/evil-ca/ca-cert.pem" > "$T/pki-b-badclient/ca-cert.pem"
cp -p "$T/pki-b/server-cert.pem" "$T/pki-b/server-key.pem" "$T/pki-b-badclient/"
cp -p "$T/pki-evil/client-cert.pem" "$T/pki-evil/client-key.pem" "$T/pki-b-badclient/"
ok "certificates made (one CA; an impostor's CA)"

hosts_create || { echo "skip: cannot make the two hosts"; exit 77; }
for h in a b; do echo "migrate_tls_x509_cert_dir = $T/pki-$h" >> "$T/$h/conf/host.conf"; done
set_b_pki() { sed -i "s#^migrate_tls_x509_cert_dir = .*#migrate_tls_x509_cert_dir = $1#" "$T/b/conf/host.conf"; }
truncate -s 8M "$T/disk.img"
hosts_guest_define "" "$T/disk.img"
console a "$T/con-a1" 300
if wait_for "$T/con-a1" "LV-COUNTER 3" 60; then ok "guest counts on A"
else fail "guest does not count on A: $(tail -c 300 "$T/con-a1")"; exit 1; fi
lease_on $HOSTS_UUID_A || fail "lease not held by A: $(lease)"

# ---- a certificate file missing: refused naming it, before anything starts ----
mv "$T/pki-a/client-key.pem" "$T/client-key.pem"
out=$(hosts_on a "$LVSH" migrate --live --tls $G "$(hosts_transport b)" 2>&1)
[ $? != 0 ] && [[ "$out" == *"'$T/pki-a/client-key.pem'"*"No such file"* ]] &&
    ok "source's client key missing: refused naming it (${out##*error: })" || fail "missing client key: $out"
[ ! -e "$T/b/run/$G" ] || fail "missing client key: state on B"
mv "$T/client-key.pem" "$T/pki-a/client-key.pem"
mv "$T/pki-b/server-key.pem" "$T/server-key.pem"
out=$(hosts_on a "$LVSH" migrate --live --tls $G "$(hosts_transport b)" 2>&1)
[ $? != 0 ] && [[ "$out" == *"'$T/pki-b/server-key.pem'"*"No such file"* ]] &&
    ok "destination's server key missing: refused naming it (${out##*error: })" || fail "missing server key: $out"
grep -q "starting QEMU" "$T/b/log/$G.log" 2>/dev/null && fail "missing server key: B started QEMU"
mv "$T/server-key.pem" "$T/pki-b/server-key.pem"
out=$(hosts_on a "$LVSH" migrate --live --tls --tunnelled $G "$(hosts_transport b)" 2>&1)
[ $? != 0 ] && [[ "$out" == *"--tls cannot be tunnelled"* ]] && ok "--tls --tunnelled refused" ||
    fail "--tls --tunnelled: $out"
out=$(hosts_on a "$LVSH" migrate --live --tls --copy-storage-all $G "$(hosts_transport b)" 2>&1)
[ $? != 0 ] && [[ "$out" == *"NBD connection is not encrypted"* ]] && ok "--tls --copy-storage-all refused" ||
    fail "--tls --copy-storage-all: $out"
counts_on A "$T/con-a1" "after the refusals"
lease_on $HOSTS_UUID_A || fail "lease after the refusals: $(lease)"

# ---- A -> B with --tls, captured on B's end of the link ----
VB=$HOSTS_TAG-vb$$
capture_start() { # NAME
    rm -f "$T/$1.ready"
    nsenter --net="/run/netns/$(hosts_ns b)" python3 "$SRC/tests/migration/sniff-tcp.py" "$VB" \
        "$T/$1.ready" "$T/$1.flows" &
    CAP=$!
    HELPERS="$HELPERS $CAP"
    local i=0
    while [ ! -e "$T/$1.ready" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    [ -e "$T/$1.ready" ] || fail "capture $1 did not start"
}
capture_stop() { kill -TERM "$CAP" 2>/dev/null; wait "$CAP" 2>/dev/null; }
qa=$(qemu_pid a)
capture_start tls
out=$(hosts_on a "$LVSH" migrate --live --tls $G "$(hosts_transport b)" 2>&1)
rc=$?
capture_stop
echo "$out" | sed 's/^/     /'
[ $rc = 0 ] && [[ "$out" == *"Migrated guest '$G' to host 'host-b'"* ]] && ok "migrated A -> B with --tls" ||
    fail "--tls A -> B: rc=$rc $out"
sed 's/^/     flow: /' "$T/tls.flows"
# the stream: A -> B's migration port, the most bytes
read -r fsrc fdst fbytes ffirst fqevm < <(awk -v a="$HOSTS_NET.1" 'index($1, a ":") == 1' "$T/tls.flows" | sort -k3 -n -r | head -n1)
[ "${fbytes:-0}" -gt 20000000 ] && ok "the capture saw the stream: $fbytes bytes $fsrc -> $fdst" ||
    fail "no stream in the capture: $(cat "$T/tls.flows")"
[[ "${ffirst:-}" == 1603* ]] && ok "the stream opens with a TLS handshake record ($ffirst)" ||
    fail "the stream does not open with TLS: ${ffirst:-none}"
grep -q ' 1$' "$T/tls.flows" && fail "plaintext QEVM on the link: $(grep ' 1$' "$T/tls.flows")" ||
    ok "no plaintext QEVM in any stream on the link"
console b "$T/con-b1" 300
counts_on B "$T/con-b1" "after the --tls migration"
lease_on $HOSTS_UUID_B && ok "lease held by B" || fail "lease after --tls A -> B: $(lease)"
for i in $(seq 100); do [ -d "/proc/$qa" ] || break; sleep 0.1; done
[ ! -d "/proc/$qa" ] || fail "A's QEMU still runs"
for k in "$T/pki-a/client-key.pem" "$T/pki-b/server-key.pem"; do
    acl=$(python3 -c "import os,sys; print(' '.join(x for x in os.listxattr(sys.argv[1]) if 'acl' in x or 'litevirt' in x))" "$k")
    [ -z "$acl" ] && [ "$(stat -c %a:%u "$k")" = 600:0 ] && ok "$(basename "$(dirname "$k")")/$(basename "$k"): root's, 0600, no ACL left" ||
        fail "$k after the migration: $(stat -c %a:%u "$k") $acl"
done

# ---- B -> A without --tls, captured the same way: QEVM in the clear ----
capture_start plain
out=$(hosts_on b "$LVSH" migrate --live $G "$(hosts_transport a)" 2>&1)
rc=$?
capture_stop
[ $rc = 0 ] || fail "plain B -> A: $out"
grep -q ' 1$' "$T/plain.flows" && ok "control: a migration without --tls shows QEVM on the link" ||
    fail "control: no QEVM seen without --tls: $(cat "$T/plain.flows")"
console a "$T/con-a2" 300
counts_on A "$T/con-a2" "after B -> A"

# ---- a destination whose certificate another CA signed: refused, the
# guest keeps running on A with its lease ----
set_b_pki "$T/pki-evil"
qa=$(qemu_pid a)
out=$(hosts_on a "$LVSH" migrate --live --tls $G "$(hosts_transport b)" 2>&1)
rc=$?
[ $rc != 0 ] && [[ "$out" == *certificate* ]] && ok "destination with an untrusted CA refused: ${out##*error: }" ||
    fail "migration to an untrusted destination: rc=$rc $out"
[ "$(qemu_pid a)" = "$qa" ] && [ -d "/proc/$qa" ] || fail "untrusted: A's QEMU changed or ended"
counts_on A "$T/con-a2" "after the refused --tls migration"
lease_on $HOSTS_UUID_A && ok "untrusted: the lease stays with A" || fail "untrusted: lease: $(lease)"
for i in $(seq 100); do [ -e "$T/b/run/$G" ] || break; sleep 0.1; done
[ ! -e "$T/b/run/$G" ] && ok "untrusted: nothing left on B" || fail "untrusted: left on B: $(ls "$T/b/run/$G")"
state=$(hosts_on a "$LVSH" domstate $G 2>&1)
[ "$state" = running ] || fail "untrusted: A's guest is $state"

# ---- and with the right certificates again, --tls works on ----
set_b_pki "$T/pki-b"
out=$(hosts_on a "$LVSH" migrate --live --tls $G "$(hosts_transport b)" 2>&1) &&
    ok "after the refusal, A -> B with --tls" || fail "--tls A -> B after the refusal: $out"
console b "$T/con-b2" 300
counts_on B "$T/con-b2" "after the second --tls migration"

# ---- the destination asks for the source's certificate
# (migrate_tls_x509_verify, default 1): B's, from the impostor's CA, is
# refused by A's QEMU; with migrate_tls_x509_verify = 0 on A it is not
# asked for ----
set_b_pki "$T/pki-b-badclient"
out=$(hosts_on b "$LVSH" migrate --live --tls $G "$(hosts_transport a)" 2>&1)
rc=$?
[ $rc != 0 ] && [[ "$out" == *TLS* ]] && [[ "$out" != *object-add* ]] &&
    ok "a source whose certificate the destination's CA did not sign: refused (${out##*error: })" ||
    fail "migration with an untrusted client certificate succeeded: $out"
counts_on B "$T/con-b2" "after the refused client certificate"
lease_on $HOSTS_UUID_B || fail "bad client: lease: $(lease)"
echo "migrate_tls_x509_verify = 0" >> "$T/a/conf/host.conf"
out=$(hosts_on b "$LVSH" migrate --live --tls $G "$(hosts_transport a)" 2>&1) &&
    ok "migrate_tls_x509_verify = 0 on A: B -> A with --tls, no client certificate asked" ||
    fail "B -> A with verify 0: $out"
console a "$T/con-a3" 300
counts_on A "$T/con-a3" "after the --tls migration without client verification"
out=$(hosts_on a "$LVSH" destroy $G 2>&1) || fail "destroy on A: $out"
hosts_guest_sanitizer_check

[ "$FAILS" = 0 ] || { echo "$FAILS failure(s)"; exit 1; }
echo "all ok"
