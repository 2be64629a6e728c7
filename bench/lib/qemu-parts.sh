# shellcheck shell=bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# bench/lib/qemu-parts.sh: the QEMU part of bench/run.sh (sourced there).
# It calls the QEMU benchmarks as they are run on their own and keeps their
# output beside the raw results:
#   bench/qemu-start.sh  -> bench/results/qemu-start.md (the start table,
#                           the stop, the memory per guest at QEMU_GUESTS)
#   bench/migrate.sh     -> bench/results/migrate.txt   (only with MIGRATE)
# and qemu_targets prints their targets, measured/met/missed.
#
# QEMU_ONLY=1 bench/run.sh runs this part alone (no container tools, the
# tables of docs/performance.md left as they are).
#
# Environment (all optional):
#   QEMU_START    0 = no QEMU start table (default 1)
#   QEMU_N        rounds of the start table (default 10, interleaved)
#   QEMU_GUESTS   guest counts of the memory figure (default "1 5")
#   QEMU_LIBVIRT  0 = leave libvirt out of the start table (default 1)
#   MIGRATE       round trips of bench/migrate.sh (default 0: not run;
#                 each round trip is two migrations of each side)
#   LV_BUILD      the litevirt build (default: qemu-start.sh's own,
#                 build-qemubench, set up and built there)
# A full run: the start table takes ~2-5 min (N=10 with libvirt, 1 and 5
# guests), migrate.sh ~1 min per round trip on an idle machine.

qemu_parts() {
    local res=$TOP/bench/results
    QEMU_BUILD=${LV_BUILD:-$TOP/build-qemubench}
    mkdir -p "$res"
    if [ "${QEMU_START:-1}" != 0 ]; then
        log "QEMU: guest start, by hand / litevirt / libvirt, N=${QEMU_N:-10}, memory at ${QEMU_GUESTS:-1 5} guests"
        rm -f "$res/qemu-start.md" "$res/qemu-start.err"
        LV_BUILD=$QEMU_BUILD N=${QEMU_N:-10} GUESTS=${QEMU_GUESTS:-1 5} \
            LV_QB_LIBVIRT=${QEMU_LIBVIRT:-1} LV_QB_SHUTDOWN=0 \
            "$HERE/qemu-start.sh" > "$res/qemu-start.md" 2> "$res/qemu-start.err" ||
            log "QEMU start table failed: $(tail -n 3 "$res/qemu-start.err")"
    fi
    if [ "${MIGRATE:-0}" != 0 ]; then
        if [ ! -x "$QEMU_BUILD/lvsh" ]; then
            log "migration: no litevirt build in $QEMU_BUILD (set LV_BUILD): skipped"
        else
            log "QEMU: live migration, litevirt / QEMU by hand, $MIGRATE round trips"
            rm -f "$res/migrate.txt"
            "$HERE/migrate.sh" "$QEMU_BUILD" "$MIGRATE" > "$res/migrate.txt" 2>&1 ||
                log "migration failed: $(tail -n 3 "$res/migrate.txt")"
        fi
    fi
}

# the QEMU targets of this run, measured/met/missed, as run.sh prints the
# others (an earlier run's file, kept in bench/results, is not printed)
qemu_targets() {
    local res=$TOP/bench/results
    [ "${QEMU_START:-1}" != 0 ] && [ -s "$res/qemu-start.md" ] && grep '^target' "$res/qemu-start.md"
    [ "${MIGRATE:-0}" != 0 ] && [ -s "$res/migrate.txt" ] && grep '^target' "$res/migrate.txt"
    return 0
}
