#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Prove the layering of docs/HACKING.md from the built static libraries.

    scripts/check-layers.py BUILD_DIR

Reads `nm` of every per-folder static library in BUILD_DIR (tests, fuzzers
and bench excluded) and resolves each undefined symbol to the object file
that defines it. Fails (exit 1, one line per finding) when
  - an object file calls a function of a folder in a higher layer, or of
    another folder in its own layer (folders of one layer are independent);
  - object files of different roles call each other in a cycle (files of
    one role, e.g. control.c and control-methods.c, may).
A folder missing from LAYERS is a finding too: a new folder gets its place
here and in docs/HACKING.md. The suite 'style' runs this on every build.
"""
import collections
import os
import subprocess
import sys

# From the ground up; a folder may call only folders of a lower layer.
LAYERS = [
    ["util"],
    ["conf"],
    ["cgroup", "locking", "netns", "driver-support", "lib"],
    ["lxc", "qemu", "xen", "network"],
    ["supervisor"],
    ["tools"],
]

# Files that share one role (by path from the source root); any other file
# is a role of its own.
ROLES = {
    "supervisor/control.c": "control socket",
    "supervisor/control-methods.c": "control socket",
    "supervisor/control-hotplug.c": "control socket",
    "supervisor/control-display.c": "control socket",
    "qemu/driver.c": "qemu driver",
    "qemu/reattach.c": "qemu driver",
    "qemu/confine.c": "qemu driver",
    "supervisor/control-save.c": "control socket",
    "qemu/migration.c": "qemu migration",
    "qemu/migration-storage.c": "qemu migration",
    "supervisor/control-migparams.c": "control socket",
    "supervisor/control-agent.c": "control socket",
    "qemu/snapshot.c": "qemu driver",
    "supervisor/control-snapshot.c": "control socket",
    "supervisor/control-vcpu.c": "control socket",
    "qemu/blockjob.c": "qemu driver",
    "supervisor/control-blockjob.c": "control socket",
    "qemu/display.c": "qemu driver",
    "qemu/vcpu.c": "qemu driver",
}

SKIP_DIRS = ("tests", "fuzz", "bench")
# Test-only variants and the installed client library (a copy of lib/).
SKIP_LIBS = ("liblv-conf-xml-static.a", "liblitevirt.a")


def layer_of(folder):
    for i, folders in enumerate(LAYERS):
        if folder in folders:
            return i
    return None


def source_of(obj_path, build):
    """'BUILD/qemu/liblv-qemu.a.p/driver.c.o' -> 'qemu/driver.c' (meson names
    a source from another folder '.._other_file.c.o')."""
    rel = os.path.relpath(obj_path, build)
    libdir = rel.split(".a.p/")[0]
    folder = os.path.dirname(libdir)
    name = os.path.basename(rel)[: -len(".o")]
    if name.startswith(".._"):
        folder, name = name[3:].split("_", 1)
    return folder + "/" + name


def nm(lib):
    """(object, kind, symbol) of every symbol in lib."""
    out = subprocess.run(["nm", "-A", lib], capture_output=True, text=True, check=True)
    for line in out.stdout.splitlines():
        # "LIB.a:OBJ.o:0000000000000000 T name" or "LIB.a:OBJ.o:   U name"
        parts = line[len(lib) + 1:].split(":", 1)
        if len(parts) != 2:
            continue
        fields = parts[1].split()
        if len(fields) >= 2:
            yield parts[0], fields[-2], fields[-1]


def main():
    if len(sys.argv) != 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    build = sys.argv[1]
    libs = []
    for root, dirs, files in os.walk(build):
        rel = os.path.relpath(root, build)
        if rel.split(os.sep)[0] in SKIP_DIRS or rel.startswith("meson-"):
            dirs[:] = []
            continue
        dirs[:] = [d for d in dirs if not d.endswith(".p")]
        libs += [os.path.join(root, f) for f in files if f.endswith(".a") and f not in SKIP_LIBS]
    if not libs:
        print(f"check-layers: no static libraries under {build}", file=sys.stderr)
        return 2

    defined = {}  # symbol -> source file
    undefined = collections.defaultdict(set)  # source file -> symbols
    for lib in sorted(libs):
        objdir = lib + ".p"
        for obj, kind, sym in nm(lib):
            src = source_of(os.path.join(objdir, obj), build)
            if kind == "U":
                undefined[src].add(sym)
            elif kind in "TDBRC":
                defined.setdefault(sym, src)

    findings = []
    calls = collections.defaultdict(set)  # file -> files it calls
    examples = {}
    for src, syms in undefined.items():
        for sym in syms:
            dst = defined.get(sym)
            if not dst or dst == src:
                continue
            calls[src].add(dst)
            examples.setdefault((src, dst), sym)

    folders = {f.split("/")[0] for f in set(undefined) | set(defined.values())}
    for folder in sorted(folders):
        if layer_of(folder) is None:
            findings.append(f"{folder}/: no layer (add it to LAYERS and docs/HACKING.md)")

    for src in sorted(calls):
        sf = src.split("/")[0]
        for dst in sorted(calls[src]):
            df = dst.split("/")[0]
            if sf == df or layer_of(sf) is None or layer_of(df) is None:
                continue
            if layer_of(df) >= layer_of(sf):
                how = "above" if layer_of(df) > layer_of(sf) else "beside"
                findings.append(f"{src} calls {dst} ({examples[(src, dst)]}): "
                                f"{df}/ is {how} {sf}/")

    # Cycles: strongly connected components of the file graph (Tarjan).
    index, low, stack, on_stack, sccs = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in calls.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            sccs.append(comp)

    sys.setrecursionlimit(100000)
    for v in sorted(calls):
        if v not in index:
            visit(v)
    for comp in sccs:
        roles = {ROLES.get(f, f) for f in comp}
        if len(roles) > 1:
            members = set(comp)
            edges = sorted(f"{a} -> {b} ({examples[(a, b)]})"
                           for a in comp for b in calls.get(a, ()) if b in members)
            findings.append("cycle between " + ", ".join(sorted(comp)) + ": " + "; ".join(edges))

    for f in findings:
        print(f"check-layers: {f}")
    n_files = len(set(undefined) | set(defined.values()))
    print(f"check-layers: {len(libs)} libraries, {n_files} files, "
          f"{sum(len(v) for v in calls.values())} file-to-file calls, {len(findings)} finding(s)")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
