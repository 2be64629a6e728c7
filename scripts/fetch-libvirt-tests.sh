#!/bin/sh
# Fetch libvirt 9.0's own test data from Debian's libvirt source package,
# once, into a cache folder shared by every build and run:
#   fetch-libvirt-tests.sh [CACHEDIR]
# CACHEDIR defaults to $LV_LIBVIRT_TESTS, else /var/cache/litevirt-tests/libvirt.
# Result: CACHEDIR/tests/<family>/... (only the vector families litevirt's
# tests run) and CACHEDIR/VERSION (the Debian source version, 9.0.0-*).
#
# Needs root the first time: it adds a deb-src entry for itself
# (/etc/apt/sources.list.d/litevirt-tests-src.sources, the mirror and suite
# that serve the libvirt-daemon package), runs apt-get update once, and
# runs `apt-get source libvirt=<9.0.0 version>` in a temporary folder.
# The version must be 9.0.0 (libvirt-daemon 9.0.0 is the peer the vectors
# are compared with; an installed one of another version is warned about): any
# other version is refused.
set -eu

WANT=9.0.0
CACHE=${1:-${LV_LIBVIRT_TESTS:-/var/cache/litevirt-tests/libvirt}}
FAMILIES="qemuxml2argvdata qemuxml2xmloutdata lxcxml2xmldata lxcxml2xmloutdata
 xlconfigdata libxlxml2domconfigdata genericxml2xmlindata genericxml2xmloutdata
 qemumigrationcookiexmldata qemustatusxml2xmldata
 networkxml2xmlin networkxml2xmlout networkxml2confdata"
LIST=/etc/apt/sources.list.d/litevirt-tests-src.sources
APT_LOCK="-o DPkg::Lock::Timeout=300"

# cached when every family is there (a family added later fetches again)
cached=1
for f in $FAMILIES; do [ -d "$CACHE/tests/$f" ] || cached=0; done
if [ -s "$CACHE/VERSION" ] && [ $cached = 1 ]; then
    echo "libvirt $(cat "$CACHE/VERSION") test data: $CACHE (cached)"
    exit 0
fi
die() { echo "fetch-libvirt-tests: $*" >&2; exit 1; }
for t in apt-get apt-cache dpkg-source xz; do
    command -v "$t" >/dev/null 2>&1 || die "$t is missing (apt-get install apt dpkg-dev xz-utils)"
done

# The Debian version of libvirt 9.0.0 that this machine's archive carries.
version() {
    apt-cache showsrc libvirt 2>/dev/null | sed -n 's/^Version: //p' |
        grep "^$WANT-" | sort -V | tail -n1
}
VER=$(version || true)
if [ -z "$VER" ]; then
    # deb-src for the mirror and suite that serve libvirt-daemon, e.g.
    # "500 http://deb.debian.org/debian bookworm/main amd64 Packages"
    set -- $(apt-cache policy libvirt-daemon 2>/dev/null |
             awk '$1 ~ /^[0-9]+$/ && $2 ~ /^https?:/ && $3 ~ /\/main$/ { print $2, $3; exit }')
    [ $# -eq 2 ] || die "no Debian mirror serves libvirt-daemon (apt-cache policy libvirt-daemon)"
    uri=$1 suite=${2%/main}
    echo "adding $LIST (deb-src $uri $suite main)"
    cat > "$LIST.tmp" <<EOF
# added by litevirt's scripts/fetch-libvirt-tests.sh (libvirt's test data)
Types: deb-src
URIs: $uri
Suites: $suite
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
    mv "$LIST.tmp" "$LIST"
    # shellcheck disable=SC2086
    apt-get $APT_LOCK update -qq || die "apt-get update failed"
    VER=$(version || true)
    [ -n "$VER" ] || die "Debian's archive has no libvirt $WANT source (apt-cache showsrc libvirt)"
fi

mkdir -p "$(dirname "$CACHE")"
WORK=$(mktemp -d "$(dirname "$CACHE")/.fetch.XXXXXX")
trap 'rm -rf "$WORK"' EXIT INT TERM
# apt downloads as the unprivileged user _apt, which must be able to write there
chown _apt "$WORK" 2>/dev/null || chmod 777 "$WORK"
echo "apt-get source libvirt=$VER"
# shellcheck disable=SC2086
(cd "$WORK" && apt-get $APT_LOCK source -qq "libvirt=$VER" >/dev/null) ||
    die "apt-get source libvirt=$VER failed"
SRC=$(find "$WORK" -mindepth 1 -maxdepth 1 -type d -name "libvirt-$WANT*" | head -n1)
[ -n "$SRC" ] || die "apt-get source gave no libvirt-$WANT folder"
# the upstream version, as libvirt's own build states it
grep -q "version: '$WANT'" "$SRC/meson.build" || die "$SRC is not libvirt $WANT"
mkdir -p "$WORK/out/tests"
for f in $FAMILIES; do
    [ -d "$SRC/tests/$f" ] || die "libvirt $VER has no tests/$f"
    cp -a "$SRC/tests/$f" "$WORK/out/tests/"
done
echo "$VER" > "$WORK/out/VERSION"
# the libvirt peer the benchmarks and comparisons run, when installed
peer=$(dpkg-query -W -f='${Status} ${Version}' libvirt-daemon 2>/dev/null |
       sed -n 's/^install ok installed //p')
if [ -n "$peer" ]; then
    case "$peer" in
    "$WANT"-*) echo "installed libvirt-daemon $peer: the same libvirt $WANT" ;;
    *) echo "warning: the installed libvirt-daemon is $peer, not libvirt $WANT" >&2 ;;
    esac
fi
rm -rf "$CACHE"
mv -T "$WORK/out" "$CACHE"
echo "libvirt $VER test data: $CACHE"
