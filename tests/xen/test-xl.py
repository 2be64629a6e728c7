#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Validate litevirt's xl.cfg with Xen's real parser.

xl parses a config only after opening the hypervisor; fakexen.so (preloaded)
answers that and the host queries with a fixed fake host, and points xl at an
empty global xl.conf. `xl -N create -q FILE` (dry run) then prints the libxl
JSON of the config.

  tests/data/xen/NAME.cfg    (written by litevirt from NAME.xml): xl exits 0,
                             stderr empty, JSON equals NAME.json (generated
                             from xl with LV_TEST_REGENERATE=1, reviewed).
  tests/data/xen/xl-invalid/NAME.cfg: accepted by litevirt's parser but
                             refused by xl, stderr equals NAME.xlerr.
  libvirt's vectors: the cfg litevirt writes from libvirt's XML and
                             libvirt's own .cfg give the same JSON from xl
                             (libxlxml2domconfigdata: libvirt's .json); the
                             paths that differ are reviewed in
                             tests/data/xen/libvirt-vectors.txt.

usage: test-xl.py LVSH FAKEXEN_SO
"""
import glob
import json
import os
import subprocess
import sys
import tempfile

SRC = os.environ.get("LV_SOURCE_ROOT", os.path.join(os.path.dirname(__file__), "..", ".."))
DATA = os.path.join(SRC, "tests", "data", "xen")
LIBVIRT_TESTS = os.environ.get("LV_LIBVIRT_TESTS")
REGEN = os.environ.get("LV_TEST_REGENERATE") == "1"

failures = 0
checks = 0


def fail(msg):
    global failures
    failures += 1
    print("not ok - " + msg.replace("\n", "\n#   "))


def ok(msg):
    print("ok - " + msg)


def libvirt_tests_dir(family):
    """$LV_LIBVIRT_TESTS/tests/FAMILY (libvirt 9.0's test data, fetched by
    scripts/fetch-libvirt-tests.sh), or None with the reason printed; the
    caller skips only when LV_LIBVIRT_TESTS_SKIP=1 (offline development)."""
    d = os.path.join(LIBVIRT_TESTS or "", "tests", family)
    if LIBVIRT_TESTS and os.path.isdir(d):
        return d
    if os.environ.get("LV_LIBVIRT_TESTS_SKIP") == "1":
        print("# skip: libvirt's test data %s is missing (LV_LIBVIRT_TESTS_SKIP=1)" % d)
    else:
        fail("libvirt's test data %s is missing: fetch it with scripts/fetch-libvirt-tests.sh %s "
             "(or set LV_LIBVIRT_TESTS_SKIP=1 to skip these tests)" % (d, LIBVIRT_TESTS or ""))
    return None


def find_xl():
    if os.environ.get("LV_XL"):
        return os.environ["LV_XL"]
    # the real binary: /usr/sbin/xl is a wrapper that needs /sys/hypervisor
    found = sorted(glob.glob("/usr/lib/xen-*/bin/xl"))
    return found[-1] if found else None


def golden(label, path, got):
    expected = open(path).read() if os.path.exists(path) else None
    if expected == got:
        return True
    if REGEN:
        with open(path, "w") as f:
            f.write(got)
        print("# regenerated " + path)
        return True
    fail("%s: differs from %s; got:\n%s" % (label, path, got))
    return False


class Xl:
    def __init__(self, xl, fakexen, tmp):
        self.xl = xl
        self.env = dict(os.environ)
        self.env["LD_PRELOAD"] = os.path.abspath(fakexen)
        conf = os.path.join(tmp, "xl.conf")
        open(conf, "w").close()  # empty global config
        self.env["FAKEXEN_XL_CONF"] = conf

    def dry_run(self, cfg_path):
        """(exit code, stdout, stderr) of `xl -N create -q FILE` run in the
        file's directory, so messages name it without the path."""
        p = subprocess.run([self.xl, "-N", "create", "-q", os.path.basename(cfg_path)],
                           cwd=os.path.dirname(os.path.abspath(cfg_path)),
                           env=self.env, capture_output=True, text=True, timeout=60)
        return p.returncode, p.stdout, p.stderr


def lvsh(binary, *args):
    p = subprocess.run([binary] + list(args), capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


def json_diff(a, b, path="", other="libvirt"):
    """Paths where two JSON values differ: a is the other side's (libvirt's,
    or the original config's), b litevirt's."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in sorted(set(a) | set(b)):
            sub = path + "." + k if path else k
            if k not in a:
                out.append(sub + " (only litevirt's)")
            elif k not in b:
                out.append(sub + " (only %s's)" % other)
            else:
                out += json_diff(a[k], b[k], sub, other)
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        out = []
        for i, (x, y) in enumerate(zip(a, b)):
            out += json_diff(x, y, "%s[%d]" % (path, i), other)
        return out
    return [] if a == b else ["%s (%s %s, litevirt %s)" % (path, other, json.dumps(a), json.dumps(b))]


def test_golden(xl, binary):
    global checks
    for xml in sorted(glob.glob(os.path.join(DATA, "*.xml"))):
        if xml.endswith(".out.xml"):
            continue
        base = xml[:-4]
        name = os.path.basename(base)
        cfg = base + ".cfg"
        checks += 1
        # the CLI writes the golden cfg
        rc, out, err = lvsh(binary, "domxml-to-native", "xen-xl", xml)
        if rc != 0:
            fail("%s: lvsh domxml-to-native failed: %s" % (name, err))
            continue
        if not os.path.exists(cfg) or open(cfg).read() != out:
            fail("%s: lvsh domxml-to-native differs from %s.cfg (run test-xlcfg first)" % (name, name))
            continue
        rc, out, err = xl.dry_run(cfg)
        if rc != 0 or err != "":
            fail("%s.cfg: xl exit %d, stderr:\n%s" % (name, rc, err))
            continue
        try:
            json.loads(out)
        except ValueError as e:
            fail("%s.cfg: xl printed no JSON: %s" % (name, e))
            continue
        if golden(name, base + ".json", out):
            ok("%s.cfg: xl accepts it, JSON as reviewed" % name)
        # the imported XML gives a cfg xl reads the same way
        rc, imported, err = lvsh(binary, "domxml-from-native", "xen-xl", cfg)
        if rc != 0:
            fail("%s.cfg: lvsh domxml-from-native failed: %s" % (name, err))


def test_import(xl):
    """An existing xl.cfg and litevirt's rewrite of it (import/NAME.out.cfg)
    mean the same to xl: the JSON paths that differ are reviewed in
    import/results.txt."""
    global checks
    d = os.path.join(DATA, "import")
    lines = []
    for cfg in sorted(glob.glob(os.path.join(d, "*.cfg"))):
        if cfg.endswith(".out.cfg"):
            continue
        name = os.path.basename(cfg)
        rc1, j1, e1 = xl.dry_run(cfg)
        rc2, j2, e2 = xl.dry_run(cfg[:-4] + ".out.cfg")
        if rc1 != 0:
            lines.append("%s: xl refuses the original: %s" % (name, e1.strip()))
        elif rc2 != 0 or e2:
            lines.append("%s: xl on litevirt's rewrite: exit %d: %s" % (name, rc2, e2.strip()))
        else:
            diffs = json_diff(json.loads(j1), json.loads(j2), other="original")
            lines.append("%s: %s" % (name, "same JSON" if not diffs else "JSON differs: " + "; ".join(diffs)))
    checks += 1
    if lines and golden("import", os.path.join(d, "results.txt"), "\n".join(lines) + "\n"):
        ok("import: %d configs, rewrite compared by xl" % len(lines))


def test_xl_invalid(xl):
    global checks
    d = os.path.join(DATA, "xl-invalid")
    for cfg in sorted(glob.glob(os.path.join(d, "*.cfg"))):
        name = os.path.basename(cfg)
        checks += 1
        rc, out, err = xl.dry_run(cfg)
        if rc == 0:
            fail("xl-invalid/%s: xl accepted it" % name)
            continue
        if golden("xl-invalid/" + name, cfg[:-4] + ".xlerr", err):
            ok("xl-invalid/%s: xl refuses it (exit %d)" % (name, rc))


def peer_compare(xl, binary, tmp, xldir, libxldir, lines):
    """Each vector is identical (xl gives the same JSON), equal (the JSON
    differences are named and reviewed in the golden file), refused (by
    litevirt, the message names the setting) or wrong (litevirt accepts it
    but xl refuses the result); wrong must stay 0."""
    counts = {}

    def result(family, label, kind, text):
        counts.setdefault(family, {"identical": 0, "equal": 0, "refused": 0, "wrong": 0})
        counts[family][kind] += 1
        text = text.replace(xldir + "/", "").replace(libxldir + "/", "")
        lines.append("%s: %s%s" % (label, kind, ": " + text if text else ""))

    def compare(family, label, want, got):
        diffs = json_diff(want, got)
        if diffs:
            result(family, label, "equal", "JSON differs: " + "; ".join(diffs))
        else:
            result(family, label, "identical", "same JSON")

    def to_cfg(xml):
        rc, ours, err = lvsh(binary, "domxml-to-native", "xen-xl", xml)
        if rc != 0:
            return None, err.strip()
        mine = os.path.join(tmp, os.path.basename(xml)[:-4] + ".cfg")
        with open(mine, "w") as f:
            f.write(ours)
        return mine, None

    # xlconfigdata: same JSON from xl for litevirt's cfg and libvirt's cfg,
    # both ways (XML -> cfg; libvirt's cfg imported and written again)
    for xml in sorted(glob.glob(os.path.join(xldir, "*.xml"))):
        name = os.path.basename(xml)
        lcfg = xml[:-4] + ".cfg"
        rc2, j2, e2 = xl.dry_run(lcfg)
        mine, err = to_cfg(xml)
        if not mine:
            result("xlconfigdata", "xlconfigdata/" + name, "refused", err)
        else:
            rc1, j1, e1 = xl.dry_run(mine)
            if rc1 != 0 or e1:
                result("xlconfigdata", "xlconfigdata/" + name, "wrong", "xl refuses litevirt's cfg: " + e1.strip())
            elif rc2 != 0:
                result("xlconfigdata", "xlconfigdata/" + name, "refused", "xl refuses libvirt's cfg: " + e2.strip())
            else:
                compare("xlconfigdata", "xlconfigdata/" + name, json.loads(j2), json.loads(j1))
        label = "xlconfigdata/" + os.path.basename(lcfg)
        rc, imported, err = lvsh(binary, "domxml-from-native", "xen-xl", lcfg)
        if rc != 0:
            result("xlconfigdata import", label, "refused", err.strip())
            continue
        ixml = os.path.join(tmp, "imported.xml")
        with open(ixml, "w") as f:
            f.write(imported)
        icfg, err = to_cfg(ixml)
        if not icfg:
            result("xlconfigdata import", label, "wrong", "imported XML not convertible: " + err)
            continue
        rc3, j3, e3 = xl.dry_run(icfg)
        if rc3 != 0:
            result("xlconfigdata import", label, "wrong", "xl refuses the imported guest's cfg: " + e3.strip())
        elif rc2 != 0:
            result("xlconfigdata import", label, "refused", "xl refuses libvirt's cfg: " + e2.strip())
        else:
            compare("xlconfigdata import", label, json.loads(j2), json.loads(j3))
    # libxlxml2domconfigdata: libvirt's JSON is libvirt's own libxl config
    # (with libvirt's defaults), compared with what xl makes of ours
    for xml in sorted(glob.glob(os.path.join(libxldir, "*.xml"))):
        label = "libxlxml2domconfigdata/" + os.path.basename(xml)
        mine, err = to_cfg(xml)
        if not mine:
            result("libxlxml2domconfigdata", label, "refused", err)
            continue
        rc1, j1, e1 = xl.dry_run(mine)
        if rc1 != 0 or e1:
            result("libxlxml2domconfigdata", label, "wrong", "xl refuses litevirt's cfg: " + e1.strip())
            continue
        compare("libxlxml2domconfigdata", label, json.load(open(xml[:-4] + ".json")), json.loads(j1))
    for family in sorted(counts):
        c = counts[family]
        lines.append("total %s: %d vectors: %d identical %d equal %d refused %d wrong"
                     % (family, sum(c.values()), c["identical"], c["equal"], c["refused"], c["wrong"]))
    return sum(c["wrong"] for c in counts.values())


def main():
    global checks
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    binary, fakexen = sys.argv[1], sys.argv[2]
    xl_bin = find_xl()
    if not xl_bin or not os.access(xl_bin, os.X_OK):
        print("# SKIP: Xen's xl not found (install xen-utils-4.17 with --no-install-recommends)")
        return 77
    with tempfile.TemporaryDirectory(prefix="lv-xen-") as tmp:
        xl = Xl(xl_bin, fakexen, tmp)
        # the fake host must work, or nothing below means anything
        probe = os.path.join(tmp, "probe.cfg")
        with open(probe, "w") as f:
            f.write('name = "probe"\nmemory = 128\nkernel = "/k"\n')
        rc, out, err = xl.dry_run(probe)
        checks += 1
        if rc != 0 or '"name": "probe"' not in out:
            fail("xl with fakexen.so cannot dry-run a config: exit %d: %s" % (rc, err))
            return 1
        ok("xl dry-runs with the fake host")
        test_golden(xl, binary)
        test_import(xl)
        test_xl_invalid(xl)
        xldir = libvirt_tests_dir("xlconfigdata")
        libxldir = libvirt_tests_dir("libxlxml2domconfigdata")
        if xldir and libxldir:
            lines = []
            wrong = peer_compare(xl, binary, tmp, xldir, libxldir, lines)
            checks += 1
            if golden("libvirt vectors", os.path.join(DATA, "libvirt-vectors.txt"), "\n".join(lines) + "\n"):
                ok("libvirt vectors: " + "; ".join(l for l in lines if l.startswith("total")))
            checks += 1
            if wrong:
                fail("libvirt vectors: %d accepted but refused by xl (wrong)" % wrong)
    print("# %d checks, %d failed" % (checks, failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
