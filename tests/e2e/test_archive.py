"""End-to-end tests of `vakt archive` (the log archive) on real lines from
../shared/corpus/logs/bench/Linux.log: append, seal, verify (clean, then a one-byte change,
a deleted segment), search by time/text/regex in text and jsonl, get by ref, retention."""
import json
import os
import shutil
import subprocess

import pytest

from conftest import VAKT, corpus

LINUX = corpus("logs", "bench", "Linux.log")


def _has_archive():
    try:
        p = subprocess.run([VAKT, "archive", "--help"], capture_output=True, timeout=30)
    except OSError:
        return False
    return p.returncode == 0 and b"verify" in p.stdout


pytestmark = pytest.mark.skipif(not _has_archive(), reason="vakt has no archive command yet")


def va(*args, check=True, **kw):
    p = subprocess.run([VAKT, "archive", *args], capture_output=True, timeout=120, **kw)
    if check and p.returncode != 0:
        raise AssertionError("vakt archive %s exited %d: %s" % (" ".join(args), p.returncode, p.stderr.decode()))
    return p


@pytest.fixture()
def data(tmp_path):
    d = tmp_path / "data"
    # 1000 lines, 10 s apart from 2024-05-01T10:30:00Z: hours 10..13
    with open(LINUX, "rb") as f:
        head = b"".join(f.readlines()[:1000])
    p = va("append", "--data", str(d), "--time", "2024-05-01T10:30:00Z", "--step", "10s", "--source", "combo",
           "--refs", input=head)
    refs = [int(x) for x in p.stdout.split()]
    assert len(refs) == 1000
    return d, head.splitlines(), refs


def segs(d):
    return sorted(x for x in os.listdir(os.path.join(d, "logs", "archive")) if x.endswith(".zst"))


def test_sealed_hourly_and_verify_clean(data):
    d, lines, _ = data
    assert segs(d) == ["2024-05-01T10.00000001.zst", "2024-05-01T11.00000002.zst",
                       "2024-05-01T12.00000003.zst", "2024-05-01T13.00000004.zst"]
    p = va("verify", "--data", str(d), "--deep")
    assert b"4 segments ok" in p.stdout and b"0 problems" in p.stdout
    # seal with nothing open changes nothing
    va("seal", "--data", str(d))
    assert len(segs(d)) == 4
    va("verify", "--data", str(d))


def test_verify_fails_on_one_changed_byte_and_names_it(data):
    d, _, _ = data
    path = os.path.join(d, "logs", "archive", segs(d)[1])
    with open(path, "r+b") as f:
        f.seek(100)
        b = f.read(1)
        f.seek(100)
        f.write(bytes([b[0] ^ 1]))
    p = va("verify", "--data", str(d), check=False)
    assert p.returncode == 1
    assert ("CHANGED %s" % segs(d)[1]).encode() in p.stdout


def test_verify_fails_on_deleted_segment(data):
    d, _, _ = data
    name = segs(d)[2]
    os.unlink(os.path.join(d, "logs", "archive", name))
    p = va("verify", "--data", str(d), check=False)
    assert p.returncode == 1
    assert ("MISSING %s" % name).encode() in p.stdout


def test_search_time_text_regex(data):
    d, lines, _ = data
    # [11:00:00, 11:01:00): lines 180..185
    p = va("search", "--data", str(d), "--from", "2024-05-01T11:00:00Z", "--to", "2024-05-01T11:01:00Z",
           "--format", "raw")
    assert p.stdout.splitlines() == lines[180:186]
    want = [l for l in lines if b"authentication failure" in l]
    assert want
    p = va("search", "--data", str(d), "--format", "raw", "authentication failure")
    assert p.stdout.splitlines() == want
    p = va("search", "--data", str(d), "--format", "jsonl", "--regex", r"sshd\(pam_unix\)\[[0-9]+\]: check pass")
    recs = [json.loads(x) for x in p.stdout.splitlines()]
    assert [r["line"].encode() for r in recs] == [l for l in lines if b"sshd(pam_unix)" in l and b"check pass" in l]
    assert all(r["source"] == "combo" for r in recs)
    # epoch and relative times parse; a bad one is a usage error
    va("search", "--data", str(d), "--from", "1714559400", "--to", "now", "--limit", "1")
    p = va("search", "--data", str(d), "--from", "yesterday-ish", check=False)
    assert p.returncode == 2


def test_get_by_ref_and_expiry(data):
    d, lines, refs = data
    p = va("get", "--data", str(d), "--format", "raw", str(refs[0]), str(refs[999]))
    assert p.stdout.splitlines() == [lines[0], lines[999]]
    p = va("get", "--data", str(d), str(refs[0] + 1), check=False)
    assert p.returncode == 1 and b"no such line" in p.stderr
    # raw retention by age: every line is older than 1 s at --now
    va("retention", "--data", str(d), "--raw-max-age", "1s", "--now", "2030-01-01")
    va("append", "--data", str(d), "--time", "2030-01-01", input=b"new\n")
    va("retention", "--data", str(d), "--raw-max-age", "1s", "--now", "2030-01-01")
    p = va("get", "--data", str(d), str(refs[0]), check=False)
    assert p.returncode == 1 and b"expired" in p.stderr


def test_retention_years_keeps_verify_clean(data):
    d, _, _ = data
    p = va("retention", "--data", str(d), "--years", "1", "--now", "2026-01-01")
    assert b"4 long-term segments pruned" in p.stdout
    assert segs(d) == []
    va("verify", "--data", str(d))
    p = va("search", "--data", str(d))
    assert p.stdout == b""


def test_help_and_usage():
    for sub in ("seal", "verify", "search", "append", "get", "retention"):
        p = va(sub, "--help")
        assert b"usage: vakt archive " + sub.encode() in p.stdout
    p = va("frobnicate", check=False)
    assert p.returncode == 2
