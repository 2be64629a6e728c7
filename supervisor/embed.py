#!/usr/bin/env python3
# Embed a text file as a C string: embed.py INPUT OUTPUT SYMBOL
import sys

src, out, sym = sys.argv[1:4]
text = open(src, encoding="utf-8").read()
with open(out, "w", encoding="utf-8") as f:
    f.write("/* Generated from %s by embed.py. */\n" % src.split("/")[-1])
    f.write("const char %s[] =\n" % sym)
    for line in text.splitlines(keepends=True):
        esc = line.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        f.write('        "%s"\n' % esc)
    f.write("        ;\n")
