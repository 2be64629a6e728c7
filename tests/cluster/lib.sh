# Shared by the cluster tests (sourced): the test guest's definition and
# helpers reading its console log.

# NAME FILE [DISK]: a 128 MiB TCG test guest (tests/qemu/build-guest.sh)
# that counts on its console and powers off on the ACPI button; with a raw
# DISK (its lease says which host may run the guest). With a <uuid>: a
# definition every node defines the guest from must fix it.
cluster_guest_xml() {
    local disk=""
    [ -n "${3:-}" ] && disk="<disk type='file' device='disk'><driver name='qemu' type='raw'/>
      <source file='$3'/><target dev='vda' bus='virtio'/></disk>"
    cat > "$2" <<XML
<domain type='qemu'>
  <name>$1</name>
  <uuid>$(cat /proc/sys/kernel/random/uuid)</uuid>
  <memory unit='MiB'>128</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type>
    <kernel>$BUILD/test-guest/vmlinuz</kernel><initrd>$BUILD/test-guest/initrd.gz</initrd>
    <cmdline>console=ttyS0 quiet</cmdline></os>
  <features><acpi/></features>
  <devices>
    $disk
    <serial type='pty'><target port='0'/></serial>
    <console type='pty'><target type='serial' port='0'/></console>
  </devices>
</domain>
XML
}

# FILE PATTERN SECONDS: wait until FILE has a line matching PATTERN
wait_for() {
    local i=0
    while [ $i -lt $(($3 * 10)) ]; do
        grep -aq "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
        i=$((i + 1))
    done
    return 1
}

last_counter() { grep -ao 'LV-COUNTER [0-9]*' "$1" 2>/dev/null | tail -n1 | awk '{print $2}'; }

# QEMU's pid from a state directory's qemu.json
qemu_pid_in() { sed -n 's/.*"pid":\([0-9]*\).*/\1/p' "$1/qemu.json" 2>/dev/null | head -n1; }

now_ms() { date +%s%3N; }
