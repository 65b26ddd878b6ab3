"""Live capture for real: a veth pair inside a network namespace made by the test,
corpus captures replayed into one end with tcpreplay, `vakt capture` on the other. The
sessions must equal those from reading the files (timestamps aside: replay retimes them)."""
import json
import os
import shutil
import signal
import subprocess
import time

import pytest

from conftest import VAKT, corpus, sessions

FILES = ["http-simple-get.pcap", "dns-tcp.pcap", "smtp-starttls.pcap", "ssh2.pcap"]
VOLATILE = {"time", "time.end", "id", "community_id_ts"}

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("tcpreplay") or not shutil.which("ip"),
    reason="needs root, iproute2 and tcpreplay")


def sh(*args, **kw):
    return subprocess.run(list(args), check=True, capture_output=True, **kw)


@pytest.fixture
def netns():
    ns = "vakt-test-%d" % os.getpid()
    sh("ip", "netns", "add", ns)
    try:
        ex = ["ip", "netns", "exec", ns]
        sh(*ex, "ip", "link", "add", "vkA", "type", "veth", "peer", "name", "vkB")
        for dev in ("vkA", "vkB"):
            sh(*ex, "sysctl", "-q", "-w", "net.ipv6.conf.%s.disable_ipv6=1" % dev)
            sh(*ex, "ip", "link", "set", dev, "mtu", "9000", "up")
        yield ex
    finally:
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def canon(recs):
    return sorted(json.dumps({k: v for k, v in r.items() if k not in VOLATILE}, sort_keys=True) for r in recs)


def start_live(cmd, out, err_path):
    """Start a live vakt and wait (up to 30 s) for its "listening on" line: from then on the
    kernel keeps what arrives, so nothing replayed is missed on a slow machine."""
    err = open(err_path, "wb")
    p = subprocess.Popen(cmd, stdout=out, stderr=err)
    deadline = time.time() + 30
    while "listening on vkB" not in open(err_path, errors="replace").read():
        if p.poll() is not None or time.time() > deadline:
            p.kill()
            raise AssertionError("vakt did not start capturing: " + open(err_path).read())
        time.sleep(0.05)
    return p, err


def replay(netns):
    for f in FILES:
        sh(*netns, "tcpreplay", "-q", "-i", "vkA", "--pps=200", corpus("pcap", "arkime", f))


def test_live_capture_equals_file_read(netns, tmp_path):
    out = open(tmp_path / "live.jsonl", "wb")
    cap, err = start_live(netns + [VAKT, "capture", "-i", "vkB", "--jsonl", "--stats"], out, tmp_path / "live.err")
    try:
        replay(netns)
        time.sleep(1.0)
    finally:
        cap.send_signal(signal.SIGINT)
        rc = cap.wait(timeout=30)
        out.close()
        err.close()
    assert rc == 0, open(tmp_path / "live.err").read()
    live = [json.loads(l) for l in open(tmp_path / "live.jsonl") if l.strip()]
    files = sessions(*[corpus("pcap", "arkime", f) for f in FILES])
    assert len(live) == len(files) > 4
    assert canon(live) == canon(files)
    stderr = open(tmp_path / "live.err").read()
    assert "dropped by the kernel" in stderr, stderr


def test_live_ingest_applies_the_filter(netns, tmp_path):
    """`vakt ingest -i IFACE -f BPF` stores only what the filter passes, the same sessions
    as reading the files through the same filter."""
    d = str(tmp_path / "d")
    bpf = "tcp port 25"
    p, err = start_live(netns + [VAKT, "ingest", "-i", "vkB", "-f", bpf, "--data", d], subprocess.DEVNULL,
                        tmp_path / "ingest.err")
    try:
        replay(netns)
        time.sleep(1.0)
    finally:
        p.send_signal(signal.SIGINT)
        rc = p.wait(timeout=60)
        err.close()
    assert rc == 0, open(tmp_path / "ingest.err").read()
    q = subprocess.run([VAKT, "query", "--data", d, "", "--format", "jsonl", "--limit", "1000"],
                       capture_output=True, timeout=60, check=True)
    live = [json.loads(l) for l in q.stdout.decode().splitlines() if l.strip()]
    files = sessions("-f", bpf, *[corpus("pcap", "arkime", f) for f in FILES])
    everything = sessions(*[corpus("pcap", "arkime", f) for f in FILES])
    assert 0 < len(files) < len(everything)
    assert sorted(r["port.dst"] for r in live) == sorted(r["port.dst"] for r in files)
    assert all(25 in (r.get("port.src"), r.get("port.dst")) for r in live)
