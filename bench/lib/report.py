#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""bench/lib/report.py RESULTS.tsv OUT.md: turn bench/run.sh's raw results
into the markdown tables of docs/performance.md. Only the text between
<!-- BEGIN RESULTS --> and <!-- END RESULTS --> is replaced; the prose
around it (method, profiles, analysis) is kept."""
import sys

BEGIN, END = "<!-- BEGIN RESULTS -->", "<!-- END RESULTS -->"
LOAD = {}  # tool -> 1-minute load average when its runs began
SAMPLES = {}  # (label, metric) -> samples in the order they were taken
PEERS = ["unshare", "crun", "lxc", "libvirt", "nspawn", "s6", "conmon", "litevirt", "litevirt_defined"]
NAMES = {
    "unshare": "unshare (floor)",
    "crun": "crun 1.8",
    "lxc": "lxc 5.0",
    "libvirt": "libvirt 9.0 LXC",
    "nspawn": "systemd-nspawn 252",
    "s6": "s6-supervise (reference)",
    "conmon": "crun + conmon 2.1 (reference)",
    "litevirt": "**litevirt**",
    "litevirt_defined": "**litevirt**, already defined: `lvsh start` / `lvsh destroy` only",
}


def load(path):
    timing, procs, summary, meta, skipped, samples = {}, {}, {}, [], {}, {}
    for line in open(path):
        f = line.rstrip("\n").split("\t")
        if f[0] == "meta" and f[1] == "load" and len(f) == 4:
            LOAD[f[2]] = f[3]
        elif f[0] == "meta":
            meta.append((f[1], f[2] if len(f) > 2 else ""))
        elif len(f) >= 3 and f[1] == "skipped":
            skipped[f[0]] = f[2]
        elif len(f) == 8 and f[1] == "proc":
            procs.setdefault(f[0], []).append((f[2], f[3], int(f[4]), int(f[5]), int(f[6]), int(f[7])))
        elif len(f) == 13 and f[1] == "summary":
            summary[f[0]] = [float(x) for x in f[2:]]
        elif len(f) == 4 and f[1] == "sample":
            samples.setdefault((f[0], f[2]), []).append(float(f[3]))
        elif len(f) == 6:
            timing[(f[0], f[1])] = (int(f[2]), float(f[3]), float(f[4]), float(f[5]))
    # in the order taken (density: by how many guests ran already)
    SAMPLES.update({k: list(v) for k, v in samples.items()})
    # runs split in rounds: summarise all their samples together
    for key, v in samples.items():
        v.sort()
        n = len(v)
        med = v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2
        timing[key] = (n, med, v[0], v[-1])
    return timing, procs, summary, meta, skipped


def ms(v):
    return f"{v:.1f}" if v >= 10 else f"{v:.2f}"


def ratio(a, b):
    if a is None or b is None or b == 0:
        return "–"
    return f"{a / b:.2f}×"


def timing_table(timing, metric, title, tools):
    lv = timing.get(("litevirt", metric))
    out = [f"| tool | median ms | min | max | runs | load avg | litevirt / tool |", "|---|---:|---:|---:|---:|---:|---:|"]
    for t in tools:
        v = timing.get((t, metric))
        if not v:
            continue
        out.append(f"| {NAMES.get(t, t)} | {ms(v[1])} | {ms(v[2])} | {ms(v[3])} | {v[0]} | {LOAD.get(t, '?')} | "
                   f"{ratio(lv[1] if lv else None, v[1]) if not t.startswith('litevirt') else ''} |")
    return [f"### {title}", ""] + out + [""]


def main():
    timing, procs, summary, meta, skipped = load(sys.argv[1])
    md = dict()
    for k, v in meta:
        md.setdefault(k, []).append(v)
    tools = [t for t in PEERS if any(k[0] == t for k in timing) or t in summary]
    o = []
    o.append(f"Measured {md.get('date', ['?'])[0]} on {md.get('cpu', ['?'])[0]}, "
             f"{md.get('mem', ['?'])[0]}, kernel {md.get('kernel', ['?'])[0]}; "
             f"{md.get('params', [''])[0]}. Load average before/after: "
             f"{md.get('load_before', ['?'])[0]} / {md.get('load_after', ['?'])[0]} "
             "(the machine is shared with other engineers compiling: the numbers were taken under load).")
    o.append("")
    params = md.get("params", [""])[0]
    o.append(f"Reproduce: `sudo {params} bench/run.sh` (per-tool commands: the method table above; "
             "raw samples: `bench/results/latest.tsv`).")
    o.append("")
    o.append("Versions: " + "; ".join(dict.fromkeys(md.get("version", []))) + ".")
    o.append("")
    for t, why in skipped.items():
        o.append(f"- {NAMES.get(t, t)}: not measured ({why}).")
    if skipped:
        o.append("")
    o += timing_table(timing, "start", "1. Start latency: command issued → payload ran", tools)
    o += timing_table(timing, "return", "1c. Start command returned (tools whose start command detaches; "
                                        "the stop is issued only then)", tools)
    o += timing_table(timing, "stop", "2. Stop latency: stop command issued → tool done", tools)
    o += timing_table(timing, "cycle", "1b. Whole cycle: create, start, payload ran, stop, remove", tools)

    full = [k for k in summary if "@" not in k and not k.endswith("-density")]
    last = int(summary[full[0]][0]) if full else 0
    o.append("### 3. Memory per running guest (KiB, smaps_rollup), "
             f"{last or '?'} guests running")
    o.append("")
    o.append("| tool | host-side processes (count) | USS / guest | PSS / guest | RSS / guest "
             "| daemons' PSS / guest | total PSS / guest | litevirt / tool (total PSS) |")
    o.append("|---|---|---:|---:|---:|---:|---:|---:|")
    lv = summary.get("litevirt")
    for t in tools:
        s = summary.get(t)
        if not s:
            continue
        plist = ", ".join(f"{n}×{c}" + (" (daemon)" if k == "daemon" else "") for n, k, c, *_ in procs.get(t, []))
        o.append(f"| {NAMES.get(t, t)} | {plist or 'none'} | {s[1]:.0f} | {s[2]:.0f} | {s[3]:.0f} | {s[5]:.0f} | "
                 f"{s[8]:.0f} | {ratio(lv[8] if lv else None, s[8]) if not t.startswith('litevirt') else ''} |")
    o.append("")

    steps = sorted({int(k.split("@", 1)[1]) for k in summary if "@" in k})
    if steps:
        cols = steps + [last]
        o.append(f"### 3b. Memory per guest as guests are added: {', '.join(str(c) for c in cols)} running")
        o.append("")
        o.append("Per guest, KiB: USS / PSS of the tool's own per-guest processes (daemons' PSS share added "
                 "in the total PSS of table 3). Pages shared between guests make the PSS fall as guests are added.")
        o.append("")
        o.append("| tool | " + " | ".join(f"{c} guest{'s' if c != 1 else ''}: USS / PSS" for c in cols) + " |")
        o.append("|---|" + "---:|" * len(cols))
        for t in tools:
            if t not in summary:
                continue
            row = []
            for c in cols:
                v = summary.get(t if c == last else f"{t}@{c}")
                row.append(f"{v[1]:.0f} / {v[2]:.0f}" if v else "–")
            o.append(f"| {NAMES.get(t, t)} | " + " | ".join(row) + " |")
        o.append("")

    dens = [t for t in tools if (t + "-density", "total") in timing]
    if dens:
        n = int(summary.get(dens[0] + "-density", [0])[0])
        o.append(f"### 4. Density: {n} idle containers started one after another")
        o.append("")
        o.append("| tool | first 100: total s | all: total s | median start ms | max start ms "
                 "| supervisors' PSS at the end (MiB) | litevirt / tool (first 100) |")
        o.append("|---|---:|---:|---:|---:|---:|---:|")
        lvd = timing.get(("litevirt-density", "total100")) or timing.get(("litevirt-density", "total"))
        for t in dens:
            tot = timing[(t + "-density", "total")]
            t100 = timing.get((t + "-density", "total100")) or tot
            st = timing.get((t + "-density", "start"))
            s = summary.get(t + "-density")
            short = f" (only {st[0]} of {n} started)" if st and st[0] < n else ""
            o.append(f"| {NAMES.get(t, t)} | {t100[1] / 1000:.2f} | {tot[1] / 1000:.2f}{short} | "
                     f"{ms(st[1]) if st else '–'} | {ms(st[3]) if st else '–'} | "
                     f"{s[10] / 1024 if s else 0:.1f} | "
                     f"{ratio(lvd[1] if lvd else None, t100[1]) if not t.startswith('litevirt') else ''} |")
        o.append("")

    lists = sorted((int(m[4:]), v) for (t, m), v in timing.items() if t == "litevirt" and m.startswith("list"))
    if lists:
        pos = SAMPLES.get(("litevirt-density", "start"), [])
        o.append("### 6. Scale: litevirt as running guests grow")
        o.append("")
        o.append("`lvsh list --all` with N guests running (hyperfine, 20 runs); the starts of the density run "
                 "by how many guests were already running (median of the 10 starts before that count was reached; the first 10 for counts up to 10); the "
                 "supervisors' memory per guest (table 3b, density at the end).")
        o.append("")
        o.append("| guests running | `lvsh list --all` median ms | start median ms (10 starts up to that count) "
                 "| supervisor USS / PSS per guest (KiB) |")
        o.append("|---:|---:|---:|---:|")
        for n, v in lists:
            win = sorted(pos[max(n - 10, 0):max(n, 10)]) if pos else []
            st = ms(win[len(win) // 2]) if win else "–"
            sm = summary.get("litevirt-density" if n == int(summary.get("litevirt-density", [0])[0]) else
                             ("litevirt" if n == last else f"litevirt@{n}"))
            o.append(f"| {n} | {ms(v[1])} | {st} | {f'{sm[1]:.0f} / {sm[2]:.0f}' if sm else '–'} |")
        o.append("")

    ctl = [(k, v) for k, v in timing.items() if k[1] == "dominfo"]
    rpc = [(k, v) for k, v in timing.items() if k[1].startswith("rpc")]
    if ctl or rpc:
        o.append("### 5. Control round trip")
        o.append("")
        o.append("| what | median ms | min | max | runs |")
        o.append("|---|---:|---:|---:|---:|")
        for (t, m), v in sorted(ctl):
            o.append(f"| {NAMES.get(t, t)}: `{'lvsh' if t == 'litevirt' else 'virsh'} dominfo` | "
                     f"{ms(v[1])} | {ms(v[2])} | {ms(v[3])} | {v[0]} |")
        for (t, m), v in sorted(rpc, key=lambda kv: (kv[0][0], int(kv[0][1][3:].split("-")[0] or 0))):
            if m.endswith("-rate"):
                continue
            rate = timing.get((t, m + "-rate"))
            o.append("")
            o.append(f"{NAMES.get(t, t)} control socket, `io.litevirt.Guest.Info`, {m[3:]} concurrent client{'s' if m[3:] != '1' else ''}, "
                     f"{v[0]} calls: p50 **{v[1]:.3f} ms**, p99 **{v[2]:.3f} ms**, max {v[3]:.3f} ms"
                     + (f", {rate[1]:.0f} calls/s." if rate else "."))
        a, b = timing.get(("litevirt", "dominfo")), timing.get(("libvirt", "dominfo"))
        if a and b:
            o.append("")
            o.append(f"lvsh dominfo / virsh dominfo = {a[1] / b[1]:.2f}×.")
        o.append("")

    # targets
    def t_(tool, metric):
        v = timing.get((tool, metric))
        return v[1] if v else None

    def cmp(desc, a, b, limit, unit="×"):
        if a is None or b is None:
            return f"| {desc} | – | not measured |"
        r = a / b
        return f"| {desc} | {r:.2f}{unit} | {'met' if r <= limit else '**missed**'} |"

    o.append("### Where litevirt stands against the targets")
    o.append("")
    o.append("| target | measured | verdict |")
    o.append("|---|---:|---|")
    o.append(cmp("start ≤ 0.8× lxc", t_("litevirt", "start"), t_("lxc", "start"), 0.8))
    o.append(cmp("start ≤ 1.8× unshare", t_("litevirt", "start"), t_("unshare", "start"), 1.8))
    o.append(cmp("start ≤ crun (issue 7)", t_("litevirt", "start"), t_("crun", "start"), 1.0))
    o.append(cmp("stop ≤ nspawn", t_("litevirt", "stop"), t_("nspawn", "stop"), 1.0))
    if t_("litevirt_defined", "start"):
        o.append(cmp("(already defined) start ≤ 0.8× lxc", t_("litevirt_defined", "start"), t_("lxc", "start"), 0.8))
        o.append(cmp("(already defined) start ≤ 1.8× unshare", t_("litevirt_defined", "start"),
                     t_("unshare", "start"), 1.8))
        o.append(cmp("(already defined) start ≤ crun", t_("litevirt_defined", "start"), t_("crun", "start"), 1.0))
        o.append(cmp("(already defined) stop ≤ nspawn", t_("litevirt_defined", "stop"), t_("nspawn", "stop"), 1.0))
    if lv:
        o.append(f"| supervisor USS ≤ 256 KiB | {lv[1]:.0f} KiB | {'met' if lv[1] <= 256 else '**missed**'} |")
        o.append(f"| supervisor PSS ≤ 400 KiB (< 1 MiB, issue 7) | {lv[2]:.0f} KiB | "
                 f"{'met' if lv[2] <= 400 else ('**missed** (< 1 MiB met)' if lv[2] < 1024 else '**missed**')} |")
        peers_min = [(summary[t][2], t) for t in tools if t in ("lxc", "libvirt", "nspawn") and t in summary
                     and summary[t][2] > 0]
        if peers_min:
            m, who = min(peers_min)
            o.append(f"| supervisor PSS below every peer's per-guest process (lxc monitor, libvirt_lxc, nspawn) "
                     f"| {lv[2]:.0f} vs {m:.0f} KiB ({who}) | "
                     f"{'met' if lv[2] < m else '**missed**'} |")
    else:
        o.append("| supervisor USS ≤ 256 KiB, PSS ≤ 400 KiB | – | not measured |")
    lvd = timing.get(("litevirt-density", "total100")) or timing.get(("litevirt-density", "total"))
    lxd = timing.get(("lxc-density", "total100")) or timing.get(("lxc-density", "total"))
    o.append(cmp("density: 100 starts ≤ 0.5× lxc", lvd[1] if lvd else None, lxd[1] if lxd else None, 0.5))
    o.append(cmp("`lvsh dominfo` ≤ 0.2× `virsh dominfo`", t_("litevirt", "dominfo"), t_("libvirt", "dominfo"), 0.2))
    o.append("")

    text = "\n".join(o)
    try:
        doc = open(sys.argv[2]).read()
    except OSError:
        doc = f"# Performance\n\n{BEGIN}\n{END}\n"
    if BEGIN not in doc or END not in doc:
        doc += f"\n{BEGIN}\n{END}\n"
    head, rest = doc.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    open(sys.argv[2], "w").write(f"{head}{BEGIN}\n{text}\n{END}{tail}")


if __name__ == "__main__":
    main()
