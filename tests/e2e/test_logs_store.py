"""End-to-end: log lines into the data directory (ingest-logs, ingest --syslog), queried
next to sessions with the same query language."""
import gzip
import json
import os
import re
import signal
import socket
import subprocess
import time

import pytest

from conftest import VAKT, corpus, run

LINUX = corpus("logs", "loghub", "Linux", "Linux_2k.log")


def lines_of(path):
    with open(path, "rb") as f:
        return f.read().splitlines()


def query(d, q, *extra):
    p = run("query", "--data", d, "--format", "jsonl", *extra, q)
    return [json.loads(x) for x in p.stdout.decode().splitlines() if x.strip()]


def test_ingest_logs_stores_one_event_per_line_with_its_raw_line(tmp_path):
    d = str(tmp_path / "d")
    gz = tmp_path / "linux.log.gz"
    gz.write_bytes(gzip.compress(open(LINUX, "rb").read()))
    run("ingest-logs", "--data", d, str(gz))
    recs = query(d, "kind=event")
    assert len(recs) == len(lines_of(LINUX))
    # the same events as `vakt logs parse`, plus the store's id and raw-line link
    parsed = [json.loads(x) for x in run("logs", "parse", "--jsonl", LINUX).stdout.decode().splitlines()]
    fails = [r for r in parsed if r.get("event.outcome") == "failure" and "ip.src" in r]
    got = query(d, "event.outcome=failure && exists ip.src")
    assert len(got) == len(fails) > 0
    # show prints the original line exactly
    raw = dict(zip([json.dumps(r, sort_keys=True) for r in parsed], lines_of(LINUX)))
    ev = got[0]
    p = run("show", "--data", d, ev["id"])
    line = re.search(rb"^raw +(.*)$", p.stdout, re.M).group(1)
    assert line in lines_of(LINUX)
    assert ev["ip.src"].encode() in line
    # drill-down over events
    v = json.loads(run("values", "--data", d, "--format", "json", "--where", "event.outcome=failure", "ip.src").stdout)
    assert v["ip.src"][0]["count"] >= 1


def test_sessions_and_events_in_one_query(tmp_path):
    d = str(tmp_path / "d")
    run("ingest", "--data", d, corpus("pcap", "arkime", "http-simple-get.pcap"))
    run("ingest-logs", "--data", d, LINUX)
    both = query(d, "ip.src=10.180.156.141 || (kind=event && event.outcome=failure)")
    kinds = {r.get("kind", "session") for r in both}
    assert kinds == {"session", "event"}
    st = json.loads(run("status", "--data", d, "--format", "json").stdout)
    assert st["events"] == len(lines_of(LINUX)) and st["records"] > st["events"]


def test_ingest_logs_errors(tmp_path):
    p = run("ingest-logs", "--data", str(tmp_path / "d"), str(tmp_path / "missing.log"), check=False)
    assert p.returncode == 2 and b"missing.log" in p.stderr
    assert run("ingest-logs", "--help").returncode == 0


_receivers = []


@pytest.fixture(autouse=True)
def _reap_receivers():
    """A test that fails midway must not leave its receiver running."""
    yield
    while _receivers:
        p = _receivers.pop()
        if p.poll() is None:
            p.kill()
            p.wait()


def start_receiver(d, urls):
    p = subprocess.Popen([VAKT, "ingest", "--data", d, "--syslog", urls], stderr=subprocess.PIPE)
    _receivers.append(p)
    bound = []
    deadline = time.time() + 20
    while time.time() < deadline and len(bound) < urls.count(",") + 1:
        line = p.stderr.readline().decode()
        m = re.search(r"listening on (\w+)://([\d.]+):(\d+)", line)
        if m:
            bound.append((m.group(1), m.group(2), int(m.group(3))))
    assert len(bound) == urls.count(",") + 1, "receiver did not start"
    return p, bound


def test_syslog_tcp_and_udp_into_the_store(tmp_path):
    d = str(tmp_path / "d")
    p, bound = start_receiver(d, "tcp://127.0.0.1:0,udp://127.0.0.1:0")
    lines = lines_of(LINUX)[:500]
    tcp = next(b for b in bound if b[0] == "tcp")
    udp = next(b for b in bound if b[0] == "udp")
    with socket.create_connection((tcp[1], tcp[2])) as s:
        # half octet-counted, half newline-framed: both RFC 6587 framings on one receiver
        s.sendall(b"".join(b"%d %s" % (len(x), x) for x in lines[:250]))
    with socket.create_connection((tcp[1], tcp[2])) as s:
        s.sendall(b"".join(x + b"\n" for x in lines[250:]))
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for x in lines[:100]:
        u.sendto(x, (udp[1], udp[2]))
    time.sleep(1.5)
    p.send_signal(signal.SIGTERM)
    err = p.communicate(timeout=60)[1].decode()
    assert p.returncode == 0, err
    recs = query(d, "kind=event")
    tcp_recs = [r for r in recs if r.get("log.source", "").startswith("tcp://")]
    assert len(tcp_recs) == 500
    m = re.search(r"udp://[\d.:]+: (\d+) messages, (\d+) dropped by vakt, (\d+) by the kernel", err)
    assert m, err
    udp_recs = [r for r in recs if r.get("log.source", "").startswith("udp://")]
    # UDP loss is measured, not hidden: what arrived plus what was counted as dropped is what was sent
    assert len(udp_recs) == int(m.group(1)) and len(udp_recs) + int(m.group(2)) + int(m.group(3)) == 100


@pytest.mark.soak
def test_syslog_load_100k_per_second_for_60_s_all_stored(tmp_path):
    """100k msg/s over TCP for 60 s into `vakt ingest --syslog`: every line is counted in the
    store. The receiver spools what the store has not taken yet; TCP back-pressure holds the
    senders only when the spool is full."""
    sender = str(tmp_path / "logsend")
    subprocess.run(["cc", "-O2", "-o", sender, os.path.join(os.path.dirname(__file__), "..", "tools", "logsend.c"),
                    "-lpthread"], check=True)
    d = str(tmp_path / "d")
    p, bound = start_receiver(d, "tcp://127.0.0.1:0")
    s = subprocess.run([sender, "tcp://%s:%d" % (bound[0][1], bound[0][2]), "--rate", "100000", "--seconds", "60",
                        "--conns", "4"], capture_output=True, timeout=600)
    out = s.stdout.decode() + s.stderr.decode()
    sent = int(re.search(r"sent=(\d+)", out).group(1))
    print(out.strip())
    assert sent >= 5_900_000, out
    # let the store drain what the spool holds, then stop
    deadline = time.time() + 900
    while time.time() < deadline:
        st = json.loads(run("status", "--data", d, "--format", "json").stdout)
        if st["events"] >= sent:
            break
        time.sleep(5)
    p.send_signal(signal.SIGTERM)
    err = p.communicate(timeout=600)[1].decode()
    assert p.returncode == 0, err[-2000:]
    st = json.loads(run("status", "--data", d, "--format", "json").stdout)
    print("sent %d, stored %d" % (sent, st["events"]))
    assert st["events"] == sent


def test_syslog_kill_9_mid_stream_loses_no_read_message(tmp_path):
    """Messages the receiver has read are in its spool before anything else happens: after
    kill -9 and a restart, every one of them ends up stored exactly once (docs/LOG-INPUTS.md
    gives the exact guarantee)."""
    d = str(tmp_path / "d")
    lines = [b"<38>Nov 27 10:00:%02d host sshd[%d]: Failed password for root from 10.9.%d.%d port 22 ssh2"
             % (i % 60, 1000 + i, i // 250, i % 250) for i in range(3000)]
    p, bound = start_receiver(d, "tcp://127.0.0.1:0")
    with socket.create_connection((bound[0][1], bound[0][2])) as s:
        s.sendall(b"".join(x + b"\n" for x in lines))
        s.shutdown(socket.SHUT_WR)
        s.settimeout(10)
        try:
            s.recv(1)  # the receiver closes once it has read everything
        except OSError:
            pass
    time.sleep(0.3)
    p.send_signal(signal.SIGKILL)
    p.wait()
    # restart on the same directory: the spool's unacknowledged tail is delivered again
    p, bound = start_receiver(d, "tcp://127.0.0.1:0")
    time.sleep(2)
    p.send_signal(signal.SIGTERM)
    err = p.communicate(timeout=120)[1].decode()
    assert p.returncode == 0, err
    recs = query(d, "kind=event")
    ids = [r["id"] for r in recs]
    assert len(recs) == len(lines), "stored %d of %d" % (len(recs), len(lines))
    assert len(set(ids)) == len(ids), "a message was stored twice"
    assert {r["ip.src"] for r in recs} == {"10.9.%d.%d" % (i // 250, i % 250) for i in range(3000)}


def test_kill_9_mid_ingest_leaves_every_stored_event_its_raw_line(tmp_path):
    """After kill -9 in the middle of a long ingest the store opens, and the raw lines of the
    newest stored events (the last batch committed before the kill) can be read from the log
    archive (docs/LOG-INPUTS.md, guarantee 4). The mechanism behind it, that the writer
    commits only events released after an archive flush, is tested directly by
    tests/unit/test_store.c hold_commits_only_released_records: here the race it closes is
    too narrow to hit on purpose."""
    src = open(corpus("logs", "bench", "Linux.log"), "rb").read()
    big = tmp_path / "big.log"
    with open(big, "wb") as f:
        for _ in range(40):  # ~1M lines, several seconds of ingest
            f.write(src)
    d = str(tmp_path / "d")
    p = subprocess.Popen([VAKT, "ingest-logs", "--data", d, str(big)], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    stored, deadline = 0, time.time() + 120
    while stored < 120000 and time.time() < deadline and p.poll() is None:
        time.sleep(0.1)
        st = run("status", "--data", d, "--format", "json", check=False)
        if st.returncode == 0:
            stored = json.loads(st.stdout).get("events", 0)
    assert p.poll() is None, "ingest ended before the kill: make the input longer"
    p.send_signal(signal.SIGKILL)
    p.wait()
    newest = query(d, "kind=event", "--sort", "log.raw:desc", "--limit", "300")
    assert len(newest) == 300
    refs = [str(r["log.raw"]) for r in newest]
    g = run("archive", "get", "--data", d, "--format", "raw", *refs, check=False)
    assert g.returncode == 0, g.stderr.decode()[-1000:]  # "no such line" for an event whose line was lost
    got = g.stdout.splitlines()
    assert len(got) == len(refs)
    assert set(got) <= set(src.splitlines())
