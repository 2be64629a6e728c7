#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck disable=SC2034   # LVB_COUNT, RES, CGOPT: read by bench/peers/*.sh
# bench/confinement.sh: what confines a container under each tool. Starts
# ONE container per tool (bench/peers/*.sh: same busybox rootfs, payload
# sleeping), one tool at a time, finds its payload (the container's init,
# which execs sleep) and prints a markdown row: host uid:gid of the
# container's root (uid_map/gid_map), CapEff, CapBnd, NoNewPrivs, Seccomp
# mode, the namespaces it does not share with this script (PID 1's are not
# readable in this machine's sandbox), whether / is
# read-only in its mount namespace, and its v1 devices cgroup (rules in
# devices.list).
#
#   sudo LV_BUILD=build bench/confinement.sh
#   TOOLS="lxc litevirt" bench/confinement.sh
#
# Every process, cgroup (lvb-bench.PID below our own, in every hierarchy)
# and the temp dir are removed on exit, also on failure or Ctrl-C.
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(dirname "$HERE")
LIB=$HERE/lib
TOOLS=${TOOLS:-"unshare crun lxc libvirt nspawn litevirt litevirt_idmap"}
TIMEOUT=${TIMEOUT:-60}

if [ "$(id -u)" != 0 ]; then
    echo "bench/confinement.sh: needs root (namespaces, cgroups, peers)" >&2
    exit 1
fi
LV_BUILD=${LV_BUILD:-$TOP/build}
export LV_BUILD
LVB_COUNT=1   # one definition per tool

# shellcheck source=lib/cgroup.sh
. "$LIB/cgroup.sh"
# shellcheck source=lib/teardown.sh
. "$LIB/teardown.sh"
for f in "$HERE"/peers/*.sh; do
    # shellcheck disable=SC1090
    . "$f"
done

# litevirt_idmap: the bench's litevirt guest with examples/container.xml's
# <idmap> (root is host uid 100000), as that example recommends
peer_litevirt_idmap_setup() { peer_litevirt_setup; }
peer_litevirt_idmap_cmds() {
    peer_litevirt_cmds "${1}m"   # a name of its own
    sed -i "s|</vcpu>|</vcpu><idmap><uid start='0' target='100000' count='65536'/><gid start='0' target='100000' count='65536'/></idmap>|" \
        "$WORK/litevirt/xml/${1}m0.xml"
}
peer_litevirt_idmap_teardown() { peer_litevirt_teardown; }

WORK=$(mktemp -d /tmp/lvconf.XXXXXX)
chmod 755 "$WORK"   # an idmapped root (uid 100000) must reach the rootfs
PFX=lvc$$
ROOTFS=$WORK/rootfs
RT=$WORK/rt
RES=$WORK/results.tsv
export WORK ROOTFS LIB RT
FG=""   # pid of a tool that stays in the foreground (unshare, nspawn)

cleanup() {
    trap - EXIT INT TERM
    [ -n "$FG" ] && kill -TERM "$FG" 2>/dev/null
    peers_teardown
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

mkdir -p "$RT" && mount -t tmpfs -o size=256m,mode=755 lvc-rt "$RT" || exit 1
"$LIB/rootfs.sh" "$ROOTFS" || exit 1
cg_setup "$WORK"

# find_payload SECONDS: pid of `sleep $SLEEP` (unique to this run and tool)
find_payload() {
    local end=$((SECONDS + $1)) p
    while :; do
        for p in /proc/[0-9]*; do
            [ "$(tr '\0' ' ' 2>/dev/null < "$p/cmdline")" = "/bin/sleep $SLEEP " ] && { echo "${p#/proc/}"; return 0; }
        done
        [ "$SECONDS" -lt "$end" ] || return 1
        sleep 0.2
    done
}

# row TOOL PID: one markdown row
row() {
    local t=$1 p=$2 u g ns="" n ro dev cg
    u=$(awk '$1 == 0 {print $2; exit}' "/proc/$p/uid_map")
    g=$(awk '$1 == 0 {print $2; exit}' "/proc/$p/gid_map")
    [ "$(awk '{print $3; exit}' "/proc/$p/uid_map")" = 4294967295 ] && u="$u (identity map)"
    for n in /proc/"$p"/ns/*; do
        n=${n##*/}
        case $n in *_for_children) continue ;; esac
        [ "$(readlink "/proc/$p/ns/$n")" != "$(readlink "/proc/$$/ns/$n")" ] && ns="$ns${ns:+ }$n"
    done
    # the last mount on / in its mount namespace is the one it sees
    ro=$(awk '$5 == "/" {split($6, o, ","); r = o[1]} END {print r}' "/proc/$p/mountinfo")
    [ -z "$ro" ] && ro="no mount on / (chroot)"
    cg=$(awk -F: '$2 ~ /(^|,)devices(,|$)/ {print $3}' "/proc/$p/cgroup")
    dev="-"
    if [ -n "$cg" ] && [ -r "/sys/fs/cgroup/devices$cg/devices.list" ]; then
        if grep -q '^a \*:\* rwm$' "/sys/fs/cgroup/devices$cg/devices.list"; then
            dev="all allowed (\`a *:* rwm\`)"
        else
            dev="$(wc -l < "/sys/fs/cgroup/devices$cg/devices.list") rules"
        fi
        [ "$cg" = / ] && dev="$dev, host's root group"
    fi
    st() { awk -v k="$1:" '$1 == k {print $2}' "/proc/$p/status"; }
    local sc
    sc=$(st Seccomp)
    case $sc in 0) sc=off ;; 1) sc=strict ;; 2) sc=filter ;; esac
    printf '| %s | %s:%s | 0x%s | 0x%s | %s | %s | %s | %s | %s |\n' "$t" "$u" "$g" \
        "$(st CapEff | sed 's/^0*//;s/^$/0/')" "$(st CapBnd | sed 's/^0*//;s/^$/0/')" \
        "$(st NoNewPrivs)" "$sc" "${ns:-none}" "$ro" "$dev"
}

ROWS=$WORK/rows.md
{
    echo "| container under | root is host uid:gid | CapEff | CapBnd | NoNewPrivs | seccomp | own namespaces | \`/\` | v1 devices cgroup |"
    echo "|---|---|---|---|---|---|---|---|---|"
} > "$ROWS"

k=0
for t in $TOOLS; do
    k=$((k + 1))
    SLEEP=$((900000 + $$ % 1000 * 10 + k))
    printf '#!/bin/sh\nexec /bin/sleep %s\n' "$SLEEP" > "$ROOTFS/bin/lvb-idle"
    ( # in its own subshell and cgroup: what it exports and starts stays there
        cg_enter "$t"
        if ! "peer_${t}_setup" > "$WORK/$t.log" 2>&1; then
            echo "| $t | not measured: set-up failed ($(tail -n1 "$WORK/$t.log")) |" >> "$ROWS"
            exit 0
        fi
        WRAP=() DETACH=0 CGOPT=()
        "peer_${t}_cmds" "$PFX"
        cmd=()
        for a in "${WRAP[@]}" "${START[@]}"; do cmd+=("${a//\{i\}/0}"); done
        if [ "$DETACH" = 1 ]; then
            timeout "$TIMEOUT" "${cmd[@]}" >> "$WORK/$t.log" 2>&1 ||
                log "$t: start failed: $(tail -n1 "$WORK/$t.log")"
        else
            "${cmd[@]}" >> "$WORK/$t.log" 2>&1 < /dev/null &
            echo $! > "$WORK/$t.fg"
        fi
        cg_leave
        if p=$(find_payload "$TIMEOUT"); then
            row "$t" "$p" >> "$ROWS"
        else
            echo "| $t | not measured: no payload within ${TIMEOUT}s ($(tail -n1 "$WORK/$t.log")) |" >> "$ROWS"
        fi
        [ -s "$WORK/$t.fg" ] && kill -TERM "$(cat "$WORK/$t.fg")" 2>/dev/null
        "peer_${t}_teardown" >/dev/null 2>&1
        for _w in $(seq 50); do find_payload 0 >/dev/null || break; sleep 0.1; done
    )
    log "$t: $(tail -n1 "$ROWS")"
done

printf '\nMeasured %s (kernel %s; ' "$(date -u '+%Y-%m-%d %H:%M UTC')" "$(uname -r)"
for p in crun lxc libvirt-daemon systemd-container; do
    printf '%s %s, ' "$p" "$(dpkg-query -W -f='${Version}' "$p" 2>/dev/null)"
done
printf 'litevirt %s):\n\n' "$(git -C "$TOP" rev-parse --short HEAD 2>/dev/null)"
cat "$ROWS"
