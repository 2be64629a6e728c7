#!/bin/bash
# A client generated with a standard varlink generator calls a running
# supervisor: Debian's varlink-go (golang-github-varlink-go-dev, built with
# Debian's Go) generates Go bindings from the installed interface file
# io.litevirt.guest.varlink (the lower-case name its grammar requires;
# lib/methods.h LV_IFACE_SPEC), varlink-go/main.go uses them on a busybox
# container's control socket: GetInfo, GetInterfaceDescription, Info,
# Suspend, State, Resume, the interface's InvalidState error as its typed
# Go error, Destroy. Skipped when the Go toolchain or varlink-go is absent.
set -u
. "${LV_SOURCE_ROOT:?}/tests/lib/lvtest.sh"
. "${LV_SOURCE_ROOT:?}/tests/lib/cgroups.sh"
GOSRC=/usr/share/gocode/src/github.com/varlink/go
command -v go >/dev/null || { echo "SKIP: no Go toolchain (apt-get install golang-go)"; exit 77; }
[ -d "$GOSRC/cmd/varlink-go-interface-generator" ] ||
    { echo "SKIP: no varlink-go (apt-get install golang-github-varlink-go-dev)"; exit 77; }
lvtest_tree vgo
N=vgo$$
cleanup() {
    lvtest_guest_remove "$N"
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# Debian's packages in GOPATH mode (no network, no modules)
export GOPATH=$T/go:/usr/share/gocode GO111MODULE=off GOCACHE=$T/gocache GOFLAGS= GOTOOLCHAIN=local
G=$T/go/src
mkdir -p "$G/iolitevirtguest" "$G/lvclient"
go build -o "$T/generator" github.com/varlink/go/cmd/varlink-go-interface-generator ||
    { echo "FAIL: building varlink-go-interface-generator"; exit 1; }
cp "$LV_BUILD_ROOT/supervisor/io.litevirt.guest.varlink" "$G/iolitevirtguest/"
out=$("$T/generator" "$G/iolitevirtguest/io.litevirt.guest.varlink" 2>&1) && [ -s "$G/iolitevirtguest/iolitevirtguest.go" ] &&
    ok "varlink-go-interface-generator accepts io.litevirt.guest.varlink" || { echo "FAIL: generator: $out"; exit 1; }
cp "$LV_SOURCE_ROOT/tests/supervisor/varlink-go/main.go" "$G/lvclient/"
(cd "$G/lvclient" && go build -o "$T/lvclient" .) || { echo "FAIL: building the client"; exit 1; }

cat >"$T/$N.xml" <<EOX
<domain type='lxc'>
  <name>$N</name>
  <memory unit='KiB'>65536</memory>
  <os><type>exe</type><init>/bin/sh</init><initarg>-c</initarg><initarg>while :; do sleep 1; done</initarg></os>
  <devices>
    <filesystem type='mount'><source dir='$T/rootfs'/><target dir='/'/></filesystem>
  </devices>
</domain>
EOX
"$LVSH" define "$T/$N.xml" >/dev/null || fail "define"
"$LVSH" start "$N" >/dev/null || { fail "start"; exit 1; }
uuid=$("$LVSH" domuuid "$N")
svpid=$(cat "$LITEVIRT_RUNDIR/$N/supervisor.pid")

"$T/lvclient" "$LITEVIRT_RUNDIR/$N/control.sock" >"$T/out" 2>&1 || fail "the client failed: $(cat "$T/out")"
v() { sed -n "s/^$1 //p" "$T/out"; }
[ "$(v interfaces)" = "[org.varlink.service io.litevirt.Guest io.litevirt.guest]" ] && ok "GetInfo: $(v interfaces)" || fail "GetInfo: '$(v interfaces)'"
[ "$(v description-bytes)" -gt 1000 ] 2>/dev/null && ok "GetInterfaceDescription io.litevirt.guest" || fail "description: '$(v description-bytes)'"
[ "$(v name)" = "$N" ] && [ "$(v uuid)" = "$uuid" ] && [ "$(v type)" = lxc ] && ok "Info: name, uuid, type" || fail "Info: $(head -n 6 "$T/out")"
[ "$(v id)" = "$svpid" ] && ok "Info: id is the supervisor's pid" || fail "Info id '$(v id)', supervisor $svpid"
[ "$(v state)" = "running booted" ] && ok "Info: running booted" || fail "Info state '$(v state)'"
[ "$(v memory_kib)" = 65536 ] && ok "Info: memory_kib 65536" || fail "Info memory_kib '$(v memory_kib)'"
[ "$(v after-suspend)" = "paused user" ] && ok "Suspend, State: paused user" || fail "after Suspend: '$(v after-suspend)'"
[ "$(v after-resume)" = "running unpaused" ] && ok "Resume, State: running unpaused" || fail "after Resume: '$(v after-resume)'"
v resume-again-error | grep -q "^io.litevirt.guest.InvalidState .*running" && ok "Resume of a running guest: typed InvalidState ($(v resume-again-error))" || fail "Resume again: '$(v resume-again-error)'"
grep -qx destroyed "$T/out" && [ "$("$LVSH" domstate "$N")" = "shut off" ] && ok "Destroy: shut off" || fail "after Destroy: $("$LVSH" domstate "$N")"
lvtest_sanitizer_check
[ $fails = 0 ] || { echo "$fails failure(s)"; exit 1; }
