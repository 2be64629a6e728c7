#!/bin/sh
# Attack: a container's root replaces a directory that is the source of
# another <filesystem> of its own by a symlink to "/". Before the fix, the
# next start bind-mounted the host's root into the container (read-write,
# the guest being privileged). Now the start is refused with an error
# naming the path, and the container never sees the host's root.
. "$(dirname "$0")/lib.sh"

G=$P-sym
mkdir -p "$T/vol/data"
# The guest writes into /vol (its own volume); /data is a volume below it.
# On every start it reports whether /data shows the host's root (where
# this test's temporary directory is), then plants the link.
define "$G" "if [ -d /data$T/vol ]; then echo HOST-ROOT-VISIBLE > /vol/seen; fi;
rm -rf /vol/data; ln -s / /vol/data; echo planted > /vol/planted; while :; do sleep 1; done" destroy "
    <filesystem type='mount'><source dir='$T/vol'/><target dir='/vol'/></filesystem>
    <filesystem type='mount'><source dir='$T/vol/data'/><target dir='/data'/></filesystem>"
"$LVSH" start "$G" >/dev/null || fail "first start"
wait_for "[ -f '$T/vol/planted' ]" || fail "the guest did not plant its link"
[ -L "$T/vol/data" ] && ok "the guest replaced its volume's directory by a symlink to /" ||
    fail "no symlink planted"
"$LVSH" destroy "$G" >/dev/null 2>&1
wait_for "[ ! -e '$T/run/$G' ]"
rm -f "$T/vol/planted"

if out=$("$LVSH" start "$G" 2>&1); then
    fail "second start succeeded: the planted link was followed"
    wait_for "[ -f '$T/vol/planted' ]"
fi
case "$out" in
*"$T/vol/data"*"symbolic link"*) ok "start refused: $out" ;;
*) fail "start error does not name the path and the symlink: $out" ;;
esac
[ ! -e "$T/vol/seen" ] && ok "the container never saw the host's root" ||
    fail "the container saw the host's root: $(cat "$T/vol/seen")"
"$LVSH" destroy "$G" >/dev/null 2>&1
wait_for "[ ! -e '$T/run/$G' ]"
check_nothing_left "$G" "refused start"

# The root filesystem's own path is checked the same way.
mkdir -p "$T/real"
ln -s "$T/rootfs" "$T/real/rootlink"
G2=$P-symroot
define "$G2" "true"
sed -i "s|<source dir='$T/rootfs'/>|<source dir='$T/real/rootlink'/>|" "$T/conf/guests/$G2.xml"
out=$("$LVSH" start "$G2" 2>&1) && fail "start with a symlinked root filesystem succeeded"
case "$out" in
*"$T/real/rootlink"*"symbolic link"*) ok "symlinked root filesystem refused: $out" ;;
*) fail "root filesystem error: $out" ;;
esac
check_nothing_left "$G2" "refused root"
finish security-symlink-source
