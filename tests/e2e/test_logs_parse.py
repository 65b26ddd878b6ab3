"""End-to-end tests of `vakt logs parse` on real logs from ../shared/corpus/logs."""
import csv
import glob
import gzip
import io
import json
import os
import subprocess
import zipfile

import pytest

from conftest import CORPUS, ROOT, TOOLS, VAKT, as_list, corpus, run

NOW = "1795780800000"  # 2026-11-27T12:00:00Z: receive time, so the output is reproducible


def parse(*args, **kw):
    p = run("logs", "parse", "--jsonl", "--now", NOW, *args, **kw)
    return [json.loads(line) for line in p.stdout.decode("utf-8").splitlines()]


def write(tmp_path, name, data):
    p = tmp_path / name
    p.write_bytes(data)
    return str(p)


def test_one_record_per_line_in_order_with_empty_lines(tmp_path):
    lines = [
        b"Dec 10 06:55:48 LabSZ sshd[24200]: Failed password for invalid user webmaster from 173.234.31.186 port 38926 ssh2",
        b"",
        b"{\"EventID\": 4625, \"Channel\": \"Security\", \"TargetUserName\": \"bob\", \"IpAddress\": \"10.0.0.9\"}",
        b"\xff\xfe not utf-8 \x00 at all",
        b"last line without a newline",
    ]
    recs = parse(write(tmp_path, "mix.log", b"\n".join(lines)))
    assert len(recs) == 5
    assert [r["kind"] for r in recs] == ["event"] * 5
    assert recs[0]["event.outcome"] == "failure" and recs[0]["ip.src"] == "173.234.31.186"
    assert recs[0]["user"] == "webmaster" and recs[0]["device.type"] == "sshd"
    assert recs[0]["log.format"] == "rfc3164" and recs[0]["log.template"] == "Failed password for invalid user <*> from <*> port <*>"
    assert "message" not in recs[1] and recs[1]["time"] == int(NOW)
    assert recs[2]["event.type"] == "login" and recs[2]["user"] == "bob" and recs[2]["event.id"] == 4625
    assert "log.binary" in as_list(recs[3]["anomaly"])
    assert recs[4]["message"] == "last line without a newline"


def test_loghub_file_matches_line_count_and_groups_templates():
    log = corpus("logs", "loghub", "OpenSSH", "OpenSSH_2k.log")
    recs = parse(log)
    assert len(recs) == 2000
    # loghub's own count of "Failed password for invalid user" lines, one template for all
    fp = [r for r in recs if r["message"].startswith("Failed password for invalid user")]
    assert len(fp) == 135 and len({r["log.template"] for r in fp}) == 1
    assert all(r["log.source"] == log for r in recs)


def test_compressed_and_stdin_inputs_give_the_same_records(tmp_path):
    raw = open(corpus("logs", "loghub", "Linux", "Linux_2k.log"), "rb").read()
    plain = parse(write(tmp_path, "a.log", raw))
    gz = parse(write(tmp_path, "a.log.gz", gzip.compress(raw)))
    assert len(plain) == 2000
    strip = lambda rs: [{k: v for k, v in r.items() if k != "log.source"} for r in rs]
    assert strip(gz) == strip(plain)
    p = subprocess.run([VAKT, "logs", "parse", "--jsonl", "--now", NOW, "-"], input=raw, capture_output=True, timeout=60)
    assert p.returncode == 0
    assert strip([json.loads(l) for l in p.stdout.decode().splitlines()]) == strip(plain)
    zpath = str(tmp_path / "a.log.zst")  # the zstd tool comes with scripts/deps.sh
    subprocess.run(["zstd", "-q", "-o", zpath, str(tmp_path / "a.log")], check=True)
    assert strip(parse(zpath)) == strip(plain)


def test_table_and_csv_outputs():
    log = corpus("logs", "fail2ban", "tests", "courier-auth")
    p = run("logs", "parse", "--csv", "--now", NOW, log)
    rows = list(csv.reader(io.StringIO(p.stdout.decode())))
    assert rows[0][:4] == ["time", "host", "process", "event.type"]
    assert len(rows) == 1 + sum(1 for _ in open(log, "rb"))
    fails = [r for r in rows[1:] if r[4] == "failure"]
    assert len(fails) == 6 and all(r[3] == "login" for r in fails)
    t = run("logs", "parse", "--table", "--now", NOW, log).stdout.decode().splitlines()
    assert t[0].split()[:3] == ["time", "host", "process"] and len(t) == len(rows)


def test_bad_usage_and_bad_files():
    p = run("logs", "parse", "--jsonl", "/nonexistent/file.log", check=False)
    assert p.returncode == 2 and b"/nonexistent/file.log" in p.stderr
    p = run("logs", "parse", check=False)
    assert p.returncode == 2
    p = run("logs", "parse", "--templates", "/nonexistent-dir", "-", check=False)
    assert p.returncode == 2 and b"nonexistent-dir" in p.stderr
    p = run("logs", "parse", "--help")
    assert b"--jsonl" in p.stdout and b"--templates" in p.stdout
    assert run("logs", "frobnicate", check=False).returncode == 2


def test_user_template_without_recompiling(tmp_path):
    d = tmp_path / "tmpl"
    d.mkdir()
    (d / "myapp.tmpl").write_text(
        "source myapp\nprogram myapp\n"
        "match login refused for {user} from {src} port {port.src}\n"
        "  set event.type=login event.outcome=failure\n")
    log = write(tmp_path, "x.log", b"Mar  1 10:00:00 h1 myapp[7]: login refused for eve from 198.51.100.7 port 4242\n")
    r = parse("--templates", str(d), log)[0]
    assert (r["device.type"], r["event.outcome"], r["user"], r["ip.src"], r["port.src"]) == \
        ("myapp", "failure", "eve", "198.51.100.7", 4242)
    (d / "broken.tmpl").write_text("program x\nmatch {nosuchkey}\n")
    p = run("logs", "parse", "--templates", str(d), log, check=False)
    assert p.returncode == 2 and b"broken.tmpl:2: unknown key 'nosuchkey'" in p.stderr


# ---- Security-Datasets (Mordor): every Windows and Linux event gets event.type, and the
# account, source address and program wherever the event carries them.
USER_F = ["TargetUserName", "SubjectUserName", "User", "AccountName", "UserName", "SamAccountName"]
IP_F = ["IpAddress", "SourceIp", "SourceAddress", "ClientAddress"]
PROC_F = ["NewProcessName", "Image", "ProcessName", "Application", "CallerProcessName", "SourceImage"]


def real(v):
    return v not in (None, "", "-")


def mordor_zips():
    root = corpus("logs", "mordor")
    zs = sorted(glob.glob(os.path.join(root, "atomic", "windows", "**", "*.zip"), recursive=True))
    zs += sorted(glob.glob(os.path.join(root, "atomic", "linux", "**", "*.zip"), recursive=True))
    zs += [os.path.join(root, "compound", "GoldenSAMLADFSMailAccess", "WindowsEvents.Zip"),
           os.path.join(root, "compound", "Log4Shell",
                        "securityauditing_log4shell_cve2021_44228_java_serialized_object.zip")]
    return zs


def test_security_datasets_events_are_normalised(tmp_path):
    zips = mordor_zips()
    assert len(zips) >= 30
    total = 0
    for z in zips:
        with zipfile.ZipFile(z) as zf:
            for name in zf.namelist():
                if name.endswith("/"):
                    continue
                data = zf.read(name)
                path = write(tmp_path, "events.log", data)
                recs = parse(path)
                src_lines = data.decode("utf-8", "replace").splitlines()
                assert len(recs) == len(src_lines), z
                for line, r in zip(src_lines, recs):
                    if not line.strip():
                        continue
                    total += 1
                    assert "event.type" in r, (z, line[:200])
                    if not line.startswith("{"):
                        continue  # auditd key=value records
                    ev = json.loads(line)
                    if any(real(ev.get(k)) for k in USER_F):
                        assert "user" in r, (z, ev.get("EventID"))
                    if any(real(ev.get(k)) for k in IP_F):
                        assert "ip.src" in r or "host.src" in r, (z, ev.get("EventID"))
                    if any(real(ev.get(k)) for k in PROC_F):
                        assert "process" in r, (z, ev.get("EventID"))
    assert total > 50000


def test_windows_security_events_map_to_shared_keys(tmp_path):
    z = corpus("logs", "mordor", "compound", "GoldenSAMLADFSMailAccess", "WindowsEvents.Zip")
    with zipfile.ZipFile(z) as zf:
        data = zf.read(zf.namelist()[0])
    recs = parse(write(tmp_path, "w.log", data))
    by_id = {}
    for r in recs:
        by_id.setdefault(r.get("event.id"), r)
    if 4624 in by_id:
        assert by_id[4624]["event.type"] == "login" and by_id[4624]["event.outcome"] == "success"
    assert all(r["device.type"] == "windows" for r in recs if "event.id" in r and r.get("log.format") == "json"
               and r["event.type"] not in ("cloud.operation", "cloud.api", "endpoint.action", "cloud.event"))


# ---- the scorers' targets, as regression tests
def score(tool, *args):
    cmd = "%s logs parse --jsonl {log}" % VAKT
    p = subprocess.run(["python3", os.path.join(TOOLS, tool), "--json", "--cmd", cmd, *args],
                       capture_output=True, timeout=600)
    assert p.returncode == 0, p.stderr.decode()[-2000:]
    return json.loads(p.stdout)


def test_loghub_grouping_accuracy_target():
    res = score("score-loghub", corpus("logs", "loghub"))
    assert res["mean_ga"] >= 0.90, res
    assert all(s["error"] is None for s in res["systems"].values())


def test_fail2ban_recall_target():
    names = ["sshd", "sshd-journal", "dovecot", "courier-auth", "sendmail-auth", "vsftpd", "proftpd",
             "pam-generic", "apache-auth", "nginx-http-auth", "openvpn", "cowrie", "postfix", "exim"]
    res = score("score-fail2ban", *[corpus("logs", "fail2ban", "tests", n) for n in names])
    assert res["recall"] >= 0.95, res
