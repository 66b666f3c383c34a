#!/usr/bin/env python3
"""expected.py NAME - writes NAME.expected from `docker logs` output (see record.sh).

Reads NAME.out/NAME.err (docker logs) and NAME.tout/NAME.terr (docker logs -t) and prints
one line per log line, per stream in order:
    <stream> TAB <timestamp> TAB <length> TAB <fnv1a64 hex> TAB <first 80 bytes, C-escaped>
The content is the line without '\\n' (and without one '\\r' before it for TTY output,
which is what the publisher stores). Each -t line starts with the stamp of the line's
first Docker message, which is the line's timestamp."""
import sys

def fnv1a64(b):
    h = 0xcbf29ce484222325
    for c in b:
        h = ((h ^ c) * 0x100000001b3) & 0xffffffffffffffff
    return h

def esc(b):
    out = []
    for c in b:
        if c == 0x5c: out.append("\\\\")
        elif 0x20 <= c < 0x7f: out.append(chr(c))
        else: out.append("\\x%02x" % c)
    return "".join(out)

def lines(data):
    parts = data.split(b"\n")
    if parts and parts[-1] == b"":
        parts.pop()
    return parts

name = sys.argv[1]
for stream, plain, stamped in (("stdout", ".out", ".tout"), ("stderr", ".err", ".terr")):
    p = lines(open(name + plain, "rb").read())
    t = lines(open(name + stamped, "rb").read())
    assert len(p) == len(t), (stream, len(p), len(t))
    for body, st in zip(p, t):
        if body.endswith(b"\r"):
            body = body[:-1]
        ts = st[:st.index(b" ")].decode()
        print("%s\t%s\t%d\t%016x\t%s" % (stream, ts, len(body), fnv1a64(body), esc(body[:80])))
