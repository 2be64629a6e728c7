#!/bin/bash
# ocf:litevirt:guest on one host, without a cluster: Debian's ocf-tester
# passes on it with a real QEMU test guest (start, monitor, stop, starting
# a started and stopping a stopped guest), then what ocf-tester does not
# check: lvsh's machine-readable bits the agent relies on (--connect,
# domstate --json, list --all --name, shutdown --mode), validate-all's
# errors, a probe where the guest is not defined, stop as a graceful
# (ACPI) shutdown, `kill -9` of QEMU seen by monitor and undone by start,
# a killed supervisor (running (unsupervised)) reattached by monitor.
# Needs root, qemu-system-x86_64, ocf-tester (resource-agents) and the
# test guest; else 77.
set -u

[ "$(id -u)" = 0 ] || { echo "skip: needs root"; exit 77; }
command -v qemu-system-x86_64 >/dev/null || { echo "skip: no qemu-system-x86_64"; exit 77; }
command -v ocf-tester >/dev/null && [ -r /usr/lib/ocf/lib/heartbeat/ocf-shellfuncs ] ||
    { echo "skip: no ocf-tester (scripts/install-deps.sh installs resource-agents)"; exit 77; }
BUILD=${LV_BUILD_ROOT:?}
SRC=${LV_SOURCE_ROOT:?}
LVSH=$BUILD/lvsh
sh "$SRC/tests/qemu/build-guest.sh" "$BUILD/test-guest" || exit 77
. "$SRC/tests/cluster/lib.sh"

T=$(mktemp -d /tmp/lv-test-ocf.XXXXXX)
chmod 0711 "$T" # ocf-tester reads the agent as nobody
G=lvocf$$
mkdir -p "$T/conf/guests" "$T/run" "$T/log" "$T/other/guests"
URI="litevirt:///?confdir=$T/conf&guestdir=$T/conf/guests&rundir=$T/run&logdir=$T/log"
# the agent as installed (0755, nobody may read it)
AGENT=$T/guest
install -m 0755 "$SRC/packaging/ocf/guest" "$AGENT"
CON=$T/log/$G.console.log
# sanitizer reports of detached supervisors (stderr /dev/null) land here
if [ -n "${ASAN_OPTIONS:-}" ]; then
    export ASAN_OPTIONS="$ASAN_OPTIONS:log_path=$T/sanitizer"
    export UBSAN_OPTIONS="${UBSAN_OPTIONS:-}:log_path=$T/sanitizer"
fi
FAILS=0
fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
ok() { echo "ok   $*"; }
lv() { "$LVSH" -c "$URI" "$@"; }

cleanup() {
    lv destroy "$G" >/dev/null 2>&1
    local pid
    pid=$(qemu_pid_in "$T/run/$G")
    [ -n "$pid" ] && grep -q "$T" "/proc/$pid/cmdline" 2>/dev/null && kill -9 "$pid"
    [ "$FAILS" != 0 ] && for f in "$T"/log/*.log; do echo "--- $f"; tail -n 20 "$f"; done
    rm -rf "$T"
}
trap cleanup EXIT INT TERM

# AGENT ACTION [VAR=VALUE...]: run the agent as Pacemaker does
ra() {
    local action=$1
    shift
    env OCF_ROOT=/usr/lib/ocf OCF_RESOURCE_INSTANCE=vm OCF_RESKEY_guest=$G \
        OCF_RESKEY_lvsh="$LVSH" OCF_RESKEY_connect="$URI" OCF_RESKEY_shutdown_timeout=60 \
        OCF_RESKEY_CRM_meta_timeout=90000 HA_LOGFILE="$T/ra.log" HA_debug=0 "$@" \
        "$AGENT" "$action" > "$T/ra.out" 2>&1
}

cluster_guest_xml $G "$T/guest.xml"

# ---- lvsh: what the agent reads ----
[ "$(lv list --all --name)" = "" ] && ok "--connect: an empty litevirt lists nothing" ||
    fail "list on an empty tree: $(lv list --all --name)"
lv define "$T/guest.xml" >/dev/null || fail "define through --connect"
[ -e "$T/conf/guests/$G.xml" ] && ok "--connect URI's guestdir is where define writes" ||
    fail "define did not write into the URI's guestdir"
[ "$(lv list --all --name | grep -x $G)" = $G ] && ok "list --all --name names the guest" ||
    fail "list --all --name: $(lv list --all --name)"
[ -z "$("$LVSH" -c "litevirt:///?guestdir=$T/other/guests&rundir=$T/run" list --all --name)" ] &&
    ok "another URI is another litevirt" || fail "another guestdir still lists $G"
out=$(lv domstate --json $G)
[ "$out" = "{\"name\":\"$G\",\"state\":\"shutoff\",\"state_text\":\"shut off\",\"reason\":\"unknown\",\"active\":false,\"supervised\":false,\"persistent\":true,\"pid\":null}" ] &&
    ok "domstate --json (shut off): $out" || fail "domstate --json: $out"
out=$(lv domstate --json nosuch$$ 2>&1)
[ $? = 1 ] && [[ "$out" == *"failed to get domain 'nosuch$$'"* ]] && ok "domstate --json of no guest: exit 1" ||
    fail "domstate of no guest: $out"
out=$("$LVSH" -c "litevirt:///?rundir=run" list 2>&1)
[ $? = 1 ] && [[ "$out" == *"rundir 'run' is not an absolute path"* ]] && ok "a relative URI directory: $out" ||
    fail "relative rundir: $out"
esc=$(printf '%s' "$T/conf/guests" | sed 's|/|%2F|g')
out=$("$LVSH" --connect="litevirt:///?guestdir=$esc&rundir=$T/run" list --all --name)
[ "$out" = "$G" ] && ok "--connect=URI with %-escaped paths" || fail "escaped URI: $out"
out=$("$LVSH" -c "litevirt:///?rundir=$T/run&bogus=1" list 2>&1)
[ $? = 1 ] && [[ "$out" == *"unknown parameter 'bogus'"* ]] && ok "an unknown URI parameter is named" ||
    fail "unknown URI parameter: $out"
out=$("$LVSH" -c "litevirt+ssh://host/" list 2>&1)
[ $? = 1 ] && [[ "$out" == *"no remote transport"* ]] && ok "a remote URI is refused with the reason" ||
    fail "remote URI: $out"
out=$(LITEVIRT_DEFAULT_URI=$URI "$LVSH" list --all --name)
[ "$out" = "$G" ] && ok "\$LITEVIRT_DEFAULT_URI" || fail "LITEVIRT_DEFAULT_URI: $out"

# ---- ocf-tester ----
t0=$(now_ms)
if ocf-tester -n vm -o guest=$G -o lvsh="$LVSH" -o connect="$URI" -o shutdown_timeout=5 \
    "$AGENT" > "$T/ocf-tester.out" 2>&1; then
    ok "ocf-tester passes ($(($(now_ms) - t0)) ms): $(tail -n1 "$T/ocf-tester.out")"
else
    fail "ocf-tester: $(cat "$T/ocf-tester.out")"
fi
# (its stops come before the guest's acpid runs: destroyed after 5 s)

# ---- validate-all ----
ra validate-all OCF_RESKEY_guest=
[ $? = 6 ] && grep -q "guest is required" "$T/ra.out" "$T/ra.log" && ok "no guest: OCF_ERR_CONFIGURED" ||
    fail "no guest: $(cat "$T/ra.out")"
sed "s/<name>$G</<name>other$$</" "$T/guest.xml" > "$T/other.xml"
ra validate-all OCF_RESKEY_config="$T/other.xml"
[ $? = 6 ] && grep -q "defines guest 'other$$', not '$G'" "$T/ra.out" && ok "config of another guest: OCF_ERR_CONFIGURED" ||
    fail "config naming another guest: $(cat "$T/ra.out")"
grep -v "<uuid>" "$T/guest.xml" > "$T/nouuid.xml"
ra validate-all OCF_RESKEY_config="$T/nouuid.xml"
[ $? = 6 ] && grep -q "has no <uuid>" "$T/ra.out" && ok "config without <uuid>: OCF_ERR_CONFIGURED" ||
    fail "config without uuid: $(cat "$T/ra.out")"
ra validate-all OCF_RESKEY_config="$T/missing.xml"
[ $? = 5 ] && ok "config missing on this node: OCF_ERR_INSTALLED" || fail "missing config: $(cat "$T/ra.out")"
ra monitor OCF_RESKEY_config="$T/missing.xml" OCF_RESKEY_CRM_meta_interval=0
[ $? = 7 ] && ok "probe without the config here: OCF_NOT_RUNNING" || fail "probe, missing config: $(cat "$T/ra.out")"
ra validate-all OCF_RESKEY_lvsh=/nonexistent/lvsh
[ $? = 5 ] && ok "no lvsh: OCF_ERR_INSTALLED" || fail "no lvsh: $(cat "$T/ra.out")"
ra validate-all OCF_RESKEY_shutdown_timeout=soon
[ $? = 6 ] && ok "bad shutdown_timeout: OCF_ERR_CONFIGURED" || fail "shutdown_timeout=soon: $(cat "$T/ra.out")"

# ---- a node where the guest is not defined ----
ra monitor OCF_RESKEY_guest=nosuch$$ OCF_RESKEY_CRM_meta_interval=0
[ $? = 7 ] && ok "probe of a guest not defined here: OCF_NOT_RUNNING" || fail "probe undefined: $(cat "$T/ra.out")"
ra stop OCF_RESKEY_guest=nosuch$$
[ $? = 0 ] && ok "stop of a guest not defined here: OCF_SUCCESS" || fail "stop undefined: $(cat "$T/ra.out")"
ra start OCF_RESKEY_guest=nosuch$$
[ $? = 5 ] && grep -q "not defined on this node" "$T/ra.out" && ok "start of a guest not defined here, no config: OCF_ERR_INSTALLED" ||
    fail "start undefined: $(cat "$T/ra.out")"

# ---- start from config, kill -9 of QEMU ----
lv undefine $G >/dev/null
ra start OCF_RESKEY_config="$T/guest.xml"
[ $? = 0 ] && [ -e "$T/conf/guests/$G.xml" ] && ok "start defines the guest from config and starts it" ||
    fail "start with config: $(cat "$T/ra.out")"
wait_for "$CON" "LV-COUNTER 2" 60 && ok "the guest counts" || fail "the guest does not count"
out=$(lv domstate --json $G)
[[ "$out" == *'"state":"running","state_text":"running","reason":"booted","active":true,"supervised":true,"persistent":true,"pid":'[0-9]* ]] &&
    ok "domstate --json (running): $out" || fail "domstate --json running: $out"
out=$(lv shutdown $G --mode agent 2>&1)
[ $? = 1 ] && [[ "$out" == *"QEMU guest agent is not configured"* ]] && ok "shutdown --mode agent without an agent channel refused: ${out##*error: }" ||
    fail "shutdown --mode agent: $out"
out=$(lv shutdown $G --mode signal 2>&1)
[ $? = 1 ] && [[ "$out" == *"--mode signal: not available for a virtual machine; use --mode acpi"* ]] &&
    ok "shutdown --mode signal refused for a VM" || fail "shutdown --mode signal: $out"
out=$(lv shutdown $G --mode bogus 2>&1)
[ $? = 1 ] && [[ "$out" == *"--mode 'bogus': not a shutdown mode"* ]] && ok "shutdown --mode bogus: usage error" ||
    fail "shutdown --mode bogus: $out"
qpid=$(qemu_pid_in "$T/run/$G")
kill -9 "$qpid"
t0=$(now_ms)
rc=0
for _ in $(seq 100); do
    ra monitor
    rc=$?
    [ $rc != 0 ] && break
    sleep 0.1
done
[ $rc = 7 ] || [ $rc = 1 ] && ok "monitor notices QEMU killed (rc $rc, $(($(now_ms) - t0)) ms)" ||
    fail "monitor after kill -9: rc $rc $(cat "$T/ra.out")"
ra stop && ra start
[ $? = 0 ] && [ "$(qemu_pid_in "$T/run/$G")" != "$qpid" ] && ok "stop + start recover it (a new QEMU)" ||
    fail "recovery: $(cat "$T/ra.out")"

# ---- running (unsupervised): monitor reattaches ----
spid=$(cat "$T/run/$G/supervisor.pid")
qpid=$(qemu_pid_in "$T/run/$G")
[ -n "$spid" ] && kill -9 "$spid"
for _ in $(seq 50); do [ -d "/proc/$spid" ] || break; sleep 0.1; done
[[ "$(lv domstate --reason $G)" == "running (unsupervised)"* ]] && ok "supervisor killed: running (unsupervised)" ||
    fail "after killing the supervisor: $(lv domstate --reason $G)"
ra monitor
[ $? = 0 ] && [[ "$(lv domstate --json $G)" == *'"supervised":true'* ]] && [ "$(qemu_pid_in "$T/run/$G")" = "$qpid" ] &&
    ok "monitor reattached a supervisor to the same QEMU" || fail "monitor unsupervised: $(cat "$T/ra.out") $(lv domstate --json $G)"
c=$(last_counter "$CON")
wait_for "$CON" "LV-COUNTER $((c + 2))\b" 20 && ok "the guest counts on" || fail "the guest stopped counting"

# ---- stop: graceful first, destroy when the guest does not end ----
n=$(grep -c LV-POWEROFF "$CON")
ra stop
[ $? = 0 ] && [ "$(grep -c LV-POWEROFF "$CON")" -gt "$n" ] && ok "stop shut the guest down by ACPI" ||
    fail "graceful stop: $(cat "$T/ra.out")"
ra monitor
[ $? = 7 ] && ok "monitor after stop: OCF_NOT_RUNNING" || fail "monitor after stop: $(cat "$T/ra.out")"
ra start && lv suspend $G >/dev/null # litevirt shuts down only a running guest
ra monitor
[ $? = 0 ] && ok "monitor of a paused guest: OCF_SUCCESS" || fail "monitor paused: $(cat "$T/ra.out")"
t0=$(now_ms)
ra stop OCF_RESKEY_shutdown_timeout=2
rc=$?
ra monitor
mrc=$?
[ $rc = 0 ] && [ $mrc = 7 ] && grep -qs "destroying guest $G (paused)" "$T/ra.out" "$T/ra.log" &&
    ok "stop destroys a paused guest (it cannot shut down) ($(($(now_ms) - t0)) ms)" ||
    fail "stop of a paused guest: rc $rc $(cat "$T/ra.out")"
[ -e "$T/run/$G" ] && fail "state left: $(ls "$T/run/$G")"
ls "$T"/sanitizer* >/dev/null 2>&1 && fail "sanitizer reports: $(cat "$T"/sanitizer*)"

[ "$FAILS" = 0 ] || exit 1
