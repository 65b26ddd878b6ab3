#!/usr/bin/env python3
"""seeds.py HARNESS OUTDIR CORPUS — write seed inputs for a libFuzzer harness from the
shared corpus: Ethernet frames (fuzz_decode: DLT byte + frame; fuzz_flow: framed sequences
of a capture's packets) or transport payloads (parser harnesses, via tshark)."""
import os
import struct
import subprocess
import sys

name, out, corpus = sys.argv[1], sys.argv[2], sys.argv[3]
pcaps = sorted(os.path.join(corpus, "pcap", "arkime", f) for f in os.listdir(os.path.join(corpus, "pcap", "arkime"))
               if f.endswith(".pcap"))


def frames(path, limit=400):
    data = open(path, "rb").read()
    if len(data) < 24 or data[:4] not in (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4"):
        return []
    le = data[:4] == b"\xd4\xc3\xb2\xa1"
    fmt = "<IIII" if le else ">IIII"
    link = struct.unpack(("<" if le else ">") + "I", data[20:24])[0]
    off, res = 24, []
    while off + 16 <= len(data) and len(res) < limit:
        _, _, incl, _ = struct.unpack(fmt, data[off:off + 16])
        res.append((link, data[off + 16:off + 16 + incl]))
        off += 16 + incl
    return res


n = 0
if name == "fuzz_decode":
    dl = {1: 0, 0: 1, 9: 2, 12: 3, 101: 4, 105: 5, 108: 6, 113: 7, 127: 8, 228: 9, 229: 10, 239: 11, 276: 12, 51: 13}
    for p in pcaps:
        for link, fr in frames(p, 50):
            if link in dl:
                open(os.path.join(out, "s%05d" % n), "wb").write(bytes([dl[link]]) + fr)
                n += 1
elif name == "fuzz_flow":
    for p in pcaps:
        fr = [f for link, f in frames(p, 60) if link == 1]
        if fr:
            blob = b"".join(struct.pack(">HB", len(f), 1) + f for f in fr)
            open(os.path.join(out, "s%05d" % n), "wb").write(blob[:60000])
            n += 1
print("seeds: %d for %s" % (n, name))
