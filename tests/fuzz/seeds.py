#!/usr/bin/env python3
"""seeds.py HARNESS OUTDIR CORPUS — write seed inputs for a libFuzzer harness from the
shared corpus: Ethernet frames (fuzz_decode: DLT byte + frame; fuzz_flow: framed sequences
of a capture's packets), transport payloads (parser harnesses, via tshark), log lines
(fuzz_logs, fuzz_logs_tmpl with the shipped templates, fuzz_syslog_frame as TCP streams),
feeds (fuzz_feed: corpus/intel files behind a format byte), record values (fuzz_enrich)
or query texts (fuzz_query:
the examples of docs/QUERY.md)."""
import glob
import os
import re
import struct
import subprocess
import sys

name, out_dir, corpus = sys.argv[1], sys.argv[2], sys.argv[3]
out = out_dir
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


def loghub_lines(per_file=40):
    res = []
    for f in sorted(glob.glob(os.path.join(corpus, "logs", "loghub", "*", "*.log"))):
        with open(f, "rb") as fh:
            res.append([l.rstrip(b"\n") for l in fh.readlines()[:per_file]])
    return res


def put(data):
    global n
    open(os.path.join(out_dir, "s%05d" % n), "wb").write(data)
    n += 1


root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
n = 0
if name == "fuzz_query":
    text = open(os.path.join(root, "docs", "QUERY.md"), encoding="utf-8").read()
    for q in sorted(set(re.findall(r"`([^`\n]{3,200})`", text))):
        put(q.encode())
elif name == "fuzz_feed":
    for f in sorted(glob.glob(os.path.join(corpus, "intel", "**", "*"), recursive=True)):
        if not os.path.isfile(f) or os.path.getsize(f) == 0:
            continue
        low = f.lower()
        fmt = 4 if "warninglist" in low else 2 if "stix" in low else 3 if "misp" in low else 0 if low.endswith(".csv") else 1
        put(bytes([fmt]) + open(f, "rb").read(65536))
        if n >= 200:
            break
elif name == "fuzz_enrich":
    # records of [key index][length][value]; key indexes as in fuzz_enrich.c's keys[]
    vals = [(0, b"10.1.2.3"), (1, b"192.168.1.77"), (2, b"2001:db8:1::5"), (1, b"2001:0db8:0000::1"),
            (4, b"www.Evil.Example."), (5, b"x.bad.co.uk"), (6, b"dga123.wildcard-test.com"), (7, b"foozzz.xyz"),
            (8, b"abc.onion.to"), (9, b"evil.example.ip-adress.com"), (11, b"evil-url.example/bad/path?x=1"),
            (12, b"/malicious-login.php"), (13, b"D41D8CD98F00B204E9800998ECF8427E"),
            (14, b"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
            (17, b"Mozilla/5.0"), (18, b"Bad@Evil.Example"), (0, b"6.6.6.6"), (20, b"printer.lan")]
    for i in range(len(vals)):
        put(b"".join(bytes([k, len(v)]) + v for k, v in vals[i:i + 4]))
    for p in pcaps[:40]:  # the capture's addresses as the records' values
        fr = [f for link, f in frames(p, 20) if link == 1 and len(f) >= 34 and f[12:14] == b"\x08\x00"]
        ips = [".".join(str(b) for b in f[26:30]).encode() for f in fr] + [".".join(str(b) for b in f[30:34]).encode() for f in fr]
        if ips:
            put(b"".join(bytes([k % 2, len(v)]) + v for k, v in enumerate(ips[:16])))
elif name == "fuzz_logs":
    for lines in loghub_lines():
        put(b"\n".join(lines))
elif name == "fuzz_logs_tmpl":
    samples = [l for ls in loghub_lines(8) for l in ls]
    for t in sorted(glob.glob(os.path.join(root, "templates", "logs", "*.tmpl"))):
        put(open(t, "rb").read() + b"\0" + b"\n".join(samples))
elif name == "fuzz_syslog_frame":
    for lines in loghub_lines(20):
        octets = b"".join(b"%d %s" % (len(l), l) for l in lines)
        put(bytes([0x80, 7]) + octets)
        put(bytes([0x80, 3]) + b"\n".join(lines) + b"\n")
elif name == "fuzz_http":
    # two bytes that seed how the harness cuts the rest, then a capture's port-80 payloads
    for pc in pcaps:
        try:
            txt = subprocess.run(["tshark", "-r", pc, "-Y", "tcp.len>0 && tcp.port==80", "-T", "fields",
                                  "-e", "tcp.payload"], capture_output=True, timeout=60).stdout.decode()
        except Exception:
            continue
        data = b"".join(bytes.fromhex(l.split(",")[0].replace(":", "")) for l in txt.split()[:40] if l)
        if data:
            put(b"\x07\x00" + data[:65536])
elif name == "fuzz_decode":
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
else:
    # Parser harnesses using fuzz_parser.h: records of (len << 1 | dir) + bytes, taken
    # from the transport payloads of corpus captures on the protocol's port (tshark).
    spec = {"fuzz_smtp": ("tcp", 25, b""), "fuzz_ftp": ("tcp", 21, b""), "fuzz_ssh": ("tcp", 22, b""),

            "fuzz_socks": ("tcp", 1080, b""), "fuzz_dns": ("udp", 53, b"\x00"),
            "fuzz_dhcp": ("udp", 67, b"\x00"), "fuzz_sig": ("udp", 0, b"\x00")}.get(name)
    if spec:
        proto, port, pre = spec
        for pc in pcaps:
            flt = "udp.length>8" if proto == "udp" else "tcp.len>0"
            if port:
                flt += " && %s.port==%d" % (proto, port)
            try:
                out = subprocess.run(["tshark", "-r", pc, "-Y", flt, "-T", "fields", "-e", proto + ".srcport",
                                      "-e", proto + ".payload"], capture_output=True, timeout=60).stdout.decode()
            except Exception:
                continue
            blob = bytearray(pre)
            for line in out.splitlines()[:40]:
                parts = line.split("\t")
                if len(parts) < 2 or not parts[1]:
                    continue
                d = 1 if port and parts[0] == str(port) else 0
                try:  # a frame with several PDUs lists them comma-separated: take the first
                    data = bytes.fromhex(parts[1].split(",")[0].replace(":", ""))
                except ValueError:
                    continue
                for i in range(0, len(data), 127):
                    piece = data[i:i + 127]
                    blob += bytes([len(piece) << 1 | d]) + piece
            if len(blob) > len(pre):
                open(os.path.join(out_dir, "s%05d" % n), "wb").write(bytes(blob[:65536]))
                n += 1
print("seeds: %d for %s" % (n, name))
