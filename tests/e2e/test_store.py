"""End-to-end tests of the data directory: ingest, query, values, timeline, show, pcap,
reconstruct, retention and crash safety, driving the vakt binary."""
import ipaddress
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import time

import pytest

from conftest import VAKT, TOOLS, as_list, corpus, run, sessions

ARKIME = corpus("pcap", "arkime")


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    d = str(tmp_path_factory.mktemp("store") / "data")
    p = run("ingest", "--data", d, ARKIME, timeout=300)
    assert b"vakt ingest:" in p.stderr
    return d


@pytest.fixture(scope="module")
def direct():
    """The same captures through `vakt sessions --jsonl`, the reference."""
    p = run("sessions", "--jsonl", ARKIME, timeout=300)
    return [bare(line) for line in p.stdout.decode().splitlines() if line.strip()]


ENRICHED = ("country.", "asn.", "threat.", "asset.")


def bare(line):
    """A stored record as `vakt sessions` prints it: ingest adds enrichment (geo, ASN,
    intel, assets), the rest must be identical."""
    r = json.loads(line)
    return json.dumps({k: v for k, v in r.items() if not k.startswith(ENRICHED)}, separators=(",", ":"))


def query(d, q, *extra):
    p = run("query", "--data", d, "--format", "jsonl", *extra, q)
    return [bare(line) for line in p.stdout.decode().splitlines() if line.strip()]


def in_net(v, net):
    try:
        return ipaddress.ip_address(v) in ipaddress.ip_network(net)
    except ValueError:
        return False


# Each query with the same predicate written in Python over the JSON records.
CASES = [
    ("service=http", lambda r: "http" in as_list(r.get("service"))),
    ("port.dst=53 && ip.proto=17", lambda r: r.get("port.dst") == 53 and r.get("ip.proto") == 17),
    ("ip.src=10.0.0.0/8", lambda r: in_net(r.get("ip.src", ""), "10.0.0.0/8")),
    ("alias.host contains 'google'", lambda r: any("google" in h.lower() for h in as_list(r.get("alias.host")))),
    ("ip.proto=6 && !exists http.host", lambda r: r.get("ip.proto") == 6 and "http.host" not in r),
    ("port.dst=1-1024,8080 || tls.sni exists", None),  # a syntax error: checked below
    ("http.status>=400", lambda r: any(s >= 400 for s in as_list(r.get("http.status")))),
    ("ip.dst=3ffe:501:4819::/48", lambda r: in_net(r.get("ip.dst", ""), "3ffe:501:4819::/48")),
    ("service=dns,tls && bytes.src>1000", lambda r: bool({"dns", "tls"} & set(as_list(r.get("service")))) and r.get("bytes.src", 0) > 1000),
    ("user exists || email.src exists", None),
    ("exists user || exists email.src", lambda r: "user" in r or "email.src" in r),
    # an AND is answered from its narrowest term's records, the rest checked by the evaluator
    ("ip.proto=6 && (port.dst=80 || port.dst=443) && !service=http",
     lambda r: r.get("ip.proto") == 6 and r.get("port.dst") in (80, 443) and "http" not in as_list(r.get("service"))),
    ("ip.src=10.0.0.0/8 && ip.proto=17 && !port.dst=53",
     lambda r: in_net(r.get("ip.src", ""), "10.0.0.0/8") and r.get("ip.proto") == 17 and r.get("port.dst") != 53),
]


@pytest.mark.parametrize("q,pred", CASES)
def test_query_equals_filtering_sessions_output(data, direct, q, pred):
    if pred is None:
        p = run("query", "--data", data, q, check=False)
        assert p.returncode == 2, q
        assert b"column" in p.stderr, p.stderr
        return
    want = sorted(line for line in direct if pred(json.loads(line)))
    got = sorted(query(data, q))
    assert want, "the case must select something: %s" % q
    assert got == want, q


def test_query_all_and_limit_and_sort(data, direct):
    assert sorted(query(data, "")) == sorted(direct)
    assert len(query(data, "", "--limit", "7")) == 7
    recs = [json.loads(x) for x in query(data, "exists bytes.src", "--sort", "bytes.src:desc", "--limit", "5")]
    b = [r["bytes.src"] for r in recs]
    assert b == sorted(b, reverse=True) and b[0] == max(json.loads(x).get("bytes.src", 0) for x in direct)


def test_values_counts_match_the_records(data, direct):
    p = run("values", "--data", data, "--format", "json", "--top", "5", "service", "ip.dst")
    got = json.loads(p.stdout)
    counts = {}
    for line in direct:
        for s in as_list(json.loads(line).get("service")):
            counts[s] = counts.get(s, 0) + 1
    top = sorted(counts.items(), key=lambda kv: (kv[1], kv[0]), reverse=True)[:5]  # ties: value descending
    assert [(v["value"], v["count"]) for v in got["service"]] == top
    # filtered: the drill-down path
    p = run("values", "--data", data, "--format", "json", "--where", "service=dns", "dns.qtype")
    qt = {}
    for line in direct:
        r = json.loads(line)
        if "dns" in as_list(r.get("service")):
            for t in as_list(r.get("dns.qtype")):
                qt[t] = qt.get(t, 0) + 1
    assert {v["value"]: v["count"] for v in json.loads(p.stdout)["dns.qtype"]} == dict(
        sorted(qt.items(), key=lambda kv: (kv[1], kv[0]), reverse=True)[:20])


@pytest.mark.parametrize("where,pred", [
    ("exists ip.src", lambda r: "ip.src" in r),                              # broad: from the posting lists
    ("ip.proto=17", lambda r: r.get("ip.proto") == 17),
    ("port.dst=21", lambda r: r.get("port.dst") == 21),                      # narrow: from the records
])
def test_filtered_values_match_the_records(data, direct, where, pred):
    """`values --where` counts, per value, the matching records holding it, their sessions and
    bytes, whichever way the store answers (a broad filter is read from the index, a narrow
    one from the records): exactly what filtering the sessions output gives."""
    keys = ["ip.src", "port.dst", "service", "port.src", "tcp.flags"]
    p = run("values", "--data", data, "--format", "json", "--top", "100000", "--where", where, *keys)
    got = json.loads(p.stdout)
    for k in keys:
        want = {}
        for line in direct:
            r = json.loads(line)
            if not pred(r):
                continue
            for v in set(str(x) for x in as_list(r.get(k))):
                c = want.setdefault(v, [0, 0, 0])
                c[0] += 1
                c[1] += 1
                c[2] += r.get("bytes.src", 0) + r.get("bytes.dst", 0)
        assert {v["value"]: [v["count"], v["sessions"], v["bytes"]] for v in got[k]} == want, (where, k)


def test_timeline_sums_to_the_matches(data, direct):
    p = run("timeline", "--data", data, "--format", "json", "--where", "service=http", "--bucket", "1h")
    buckets = json.loads(p.stdout)
    n = sum(1 for line in direct if "http" in as_list(json.loads(line).get("service")))
    assert sum(b["records"] for b in buckets) == n
    assert all(b["time"] % 3600000 == 0 for b in buckets)


def test_time_range_options(data, direct):
    # records overlapping 2014-01-01 .. 2015-01-01
    lo, hi = 1388534400000, 1420070400000
    want = sorted(x for x in direct if json.loads(x)["time"] <= hi and json.loads(x).get("time.end", json.loads(x)["time"]) >= lo)
    got = sorted(query(data, "", "--from", "2014-01-01T00:00:00Z", "--to", "2015-01-01T00:00:00Z"))
    assert got == want and want


def test_show_and_pcap_of_one_session(data, tmp_path):
    rec = json.loads(query(data, "http.host=www.google.com")[0])
    p = run("show", "--data", data, rec["id"])
    assert b"www.google.com" in p.stdout and b"packets" in p.stdout
    out = tmp_path / "one.pcap"
    run("pcap", "--data", data, rec["id"], "-o", str(out))
    t = subprocess.run(["tshark", "-r", str(out), "-T", "fields", "-e", "frame.number"], capture_output=True, check=True)
    assert len(t.stdout.split()) == rec["packets.src"] + rec["packets.dst"]


def test_pcap_of_a_query_has_every_packet(data, tmp_path):
    recs = [json.loads(x) for x in query(data, "service=dns || service=http")]
    out = tmp_path / "q.pcap"
    run("pcap", "--data", data, "--where", "service=dns || service=http", "-o", str(out))
    t = subprocess.run(["tshark", "-r", str(out), "-T", "fields", "-e", "frame.number"], capture_output=True)
    assert t.returncode == 0, t.stderr
    # one link type per pcap file: sessions captured on another link type are left out (and said so)
    n = len(t.stdout.split())
    total = sum(r.get("packets.src", 0) + r.get("packets.dst", 0) for r in recs)
    assert 0 < n <= total


def test_reconstruct_http_decodes_and_extracts(data, tmp_path):
    rec = json.loads(query(data, "http.host=www.google.com")[0])
    p = run("reconstruct", "--data", data, rec["id"])
    assert b"GET / HTTP/1.1" in p.stdout and b"HTTP/1.1 302 Found" in p.stdout
    p = run("reconstruct", "--data", data, "--hex", rec["id"])
    assert b"|GET / HTTP/1.1.." in p.stdout
    gz = [json.loads(x) for x in query(data, "http.header.response=content-encoding && file.type=text/html")]
    assert gz
    p = run("reconstruct", "--data", data, "--http", "--extract", str(tmp_path / "x"), gz[0]["id"])
    files = os.listdir(tmp_path / "x")
    assert files
    # the decoded body is what was hashed: its sha256 is one of the session's file.sha256
    import hashlib
    hashes = {hashlib.sha256(open(tmp_path / "x" / f, "rb").read()).hexdigest() for f in files}
    assert hashes & set(as_list(gz[0].get("file.sha256")))
    for b in p.stdout:
        assert b in (9, 10) or 32 <= b < 127, "raw byte %d reached the terminal" % b


def test_bad_input_is_a_clear_error_with_status_2(data, tmp_path):
    p = run("query", "--data", data, "ip.src=10.0.0.1 && port.dst>abc", check=False)
    assert p.returncode == 2 and b"port.dst" in p.stderr and b"column" in p.stderr
    p = run("query", "--data", data, "nosuch.key=1", check=False)
    assert p.returncode == 2 and b"nosuch.key" in p.stderr
    p = run("show", "--data", data, "0123456789abcdef", check=False)
    assert p.returncode == 2 and b"no session" in p.stderr
    p = run("pcap", "--data", data, "0123456789abcdef", "-o", str(tmp_path / "x.pcap"), check=False)
    assert p.returncode == 2 and b"no session" in p.stderr
    p = run("query", "--data", str(tmp_path / "missing"), "", check=False)
    assert p.returncode == 2 and b"no data directory" in p.stderr
    for cmd in ("query", "values", "timeline", "show", "pcap", "reconstruct", "ingest", "status", "prune"):
        assert run(cmd, "--help").returncode == 0


def test_retention_marks_expired_packets(tmp_path):
    d = str(tmp_path / "d")
    files = sorted(os.path.join(ARKIME, f) for f in os.listdir(ARKIME) if f.endswith(".pcap"))
    run("ingest", "--data", d, "--set", "pcap_file_bytes=1M", *files[:40], timeout=300)
    first = json.loads(query(d, "", "--limit", "1")[0])
    with open(os.path.join(d, "vakt.conf"), "w") as f:
        f.write("# keep almost no packets\npcap_max_bytes = 1\n")
    p = run("prune", "--data", d)
    assert b"deleted" in p.stdout
    p = run("show", "--data", d, first["id"])
    assert b"packets expired" in p.stdout
    p = run("pcap", "--data", d, first["id"], "-o", str(tmp_path / "e.pcap"), check=False)
    assert p.returncode != 0 and b"packets expired" in p.stderr
    assert query(d, "id=%s" % first["id"])  # the meta stays


def test_bad_config_is_rejected(tmp_path):
    d = tmp_path / "d"
    d.mkdir()
    (d / "vakt.conf").write_text("pcap_max_bytes = lots\n")
    p = run("ingest", "--data", str(d), os.path.join(ARKIME, "http-simple-get.pcap"), check=False)
    assert p.returncode == 2 and b"vakt.conf:1" in p.stderr


@pytest.fixture(scope="module")
def bench_pcap(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("bench") / "b.pcap")
    subprocess.run([os.path.join(TOOLS, "make-bench-pcap"), "--size-mb", "48", "--seed", "3", "--mix", "small-flows",
                    "--out", out, "--quiet"], check=True, capture_output=True, timeout=300)
    return out


def test_sigkill_mid_ingest_loses_no_acknowledged_batch(tmp_path, bench_pcap):
    d = str(tmp_path / "d")
    p = subprocess.Popen([VAKT, "ingest", "--data", d, "--acks", "--set", "batch_records=500", "--set",
                          "pcap_file_bytes=4M", bench_pcap], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    acked = 0
    deadline = time.time() + 120
    while time.time() < deadline:
        line = p.stdout.readline()
        if not line:
            break
        acked = int(line.split()[1])
        if acked >= 5000:
            break
    p.send_signal(signal.SIGKILL)
    p.wait()
    assert acked >= 5000, "ingest never acknowledged 5000 records"
    # the store opens cleanly and holds every acknowledged record
    db = sqlite3.connect(os.path.join(d, "meta.db"))
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    n = db.execute("SELECT count(*) FROM rec").fetchone()[0]
    db.close()
    assert n >= acked
    st = json.loads(run("status", "--data", d, "--format", "json").stdout)
    assert st["records"] == n
    # every packet position points at a packet that exists
    out = tmp_path / "all.pcap"
    p2 = run("pcap", "--data", d, "--where", "", "-o", str(out), timeout=600)
    assert b"damaged" not in p2.stderr
    recs = [json.loads(x) for x in query(d, "")]
    t = subprocess.run(["tshark", "-r", str(out), "-T", "fields", "-e", "frame.number"], capture_output=True)
    assert t.returncode == 0
    assert len(t.stdout.split()) == sum(r.get("packets.src", 0) + r.get("packets.dst", 0) for r in recs)
    # and ingest restarts on the same directory
    run("ingest", "--data", d, os.path.join(ARKIME, "http-simple-get.pcap"))
    assert json.loads(run("status", "--data", d, "--format", "json").stdout)["records"] == n + 1


def test_readers_run_while_ingest_runs(tmp_path, bench_pcap):
    d = str(tmp_path / "d")
    p = subprocess.Popen([VAKT, "ingest", "--data", d, "--acks", "--set", "batch_records=500", bench_pcap],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    # an idle writer commits early, small batches: wait until 500 records are acknowledged
    while True:
        line = p.stdout.readline()
        assert line.startswith(b"ack"), line
        if int(line.split()[1]) >= 500:
            break
    seen = []
    for _ in range(3):
        q = run("query", "--data", d, "--format", "jsonl", "ip.proto=6", "--limit", "5")
        seen.append(len(q.stdout.splitlines()))
        run("values", "--data", d, "--format", "json", "port.dst")
    p.communicate(timeout=300)  # drains the acks still coming
    assert p.returncode == 0
    assert all(s == 5 for s in seen)
