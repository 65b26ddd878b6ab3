"""End-to-end tests of `vakt sessions` on real captures from ../shared/corpus/pcap."""
import json
import os
import subprocess

from conftest import VAKT, as_list, corpus, first, run, sessions


def arkime(name):
    return [s["body"] for s in json.load(open(corpus("pcap", "arkime", name + ".test")))["sessions3"]]


def test_http_simple_get_matches_arkime_counters():
    got = sessions(corpus("pcap", "arkime", "http-simple-get.pcap"))
    want = arkime("http-simple-get")
    assert len(got) == len(want) == 1
    g, w = got[0], want[0]
    assert g["ip.src"] == w["source"]["ip"] and g["ip.dst"] == w["destination"]["ip"]
    assert g["port.src"] == w["source"]["port"] and g["port.dst"] == w["destination"]["port"]
    assert g["packets.src"] == w["source"]["packets"] and g["packets.dst"] == w["destination"]["packets"]
    assert g["bytes.src"] == w["source"]["bytes"] and g["bytes.dst"] == w["destination"]["bytes"]
    assert g["payload.src"] == w["client"]["bytes"] and g["payload.dst"] == w["server"]["bytes"]
    assert g["community_id"] == w["network"]["community_id"]
    assert g["time"] == w["firstPacket"] and g["time.end"] == w["lastPacket"]
    assert set(as_list(g["tcp.flags"])) >= {"syn", "syn-ack", "fin"}


def test_long_session_emits_interim_record_with_same_id():
    # Arkime splits this 15-minute session at its save timeout into two records, one id.
    got = sessions(corpus("pcap", "arkime", "long-session.pcap"))
    want = arkime("long-session")
    assert len(got) == len(want) == 2
    assert got[0]["id"] == got[1]["id"]
    assert [(g["packets.src"], g["packets.dst"]) for g in got] == \
        [(w["source"]["packets"], w["destination"]["packets"]) for w in want]


def test_dns_over_gre_and_vlan_tunnels_decode_inner_flow():
    got = sessions(corpus("pcap", "arkime", "gre-sample.pcap"))
    assert any("gre" in as_list(g.get("tunnel")) for g in got)
    assert all(g.get("ip.src") != "172.27.1.66" for g in got if g.get("tunnel")), "outer IP leaked into the key"


def test_ipv4_fragments_are_reassembled():
    got = sessions(corpus("pcap", "arkime", "socks5-http-302-frag.pcap"))
    want = arkime("socks5-http-302-frag")[0]
    assert len(got) == 1, "held fragments leaked into a session of their own"
    assert got[0]["bytes.src"] == want["source"]["bytes"] and got[0]["bytes.dst"] == want["destination"]["bytes"]
    assert got[0]["payload.src"] == want["client"]["bytes"]


def test_multiple_files_merge_in_time_order(tmp_path):
    a = corpus("pcap", "arkime", "dns-udp.pcap")
    b = corpus("pcap", "arkime", "http-simple-get.pcap")
    both = sessions(a, b)
    assert len(both) == len(sessions(a)) + len(sessions(b))


def master_app(r):
    """nDPI correlates sessions through per-module caches (STUN/Hangout, Zoom, Teams...),
    and every worker has its own module, so only the master part of `app` must agree."""
    r = dict(r)
    if "app" in r:
        r["app"] = sorted({a.split(".")[0] for a in as_list(r["app"])})
    return json.dumps(r, sort_keys=True)


def test_directory_and_threads_give_the_same_sessions():
    d = corpus("pcap", "arkime")
    one = sorted(master_app(r) for r in sessions(d, "-t", "1", timeout=600))
    four = sorted(master_app(r) for r in sessions(d, "-t", "4", timeout=600))
    assert len(one) > 500
    assert one == four


def test_table_and_csv_outputs():
    p = run("sessions", "--table", corpus("pcap", "arkime", "dns-udp.pcap"))
    lines = p.stdout.decode().splitlines()
    assert lines[0].split()[:3] == ["time", "proto", "src"]
    assert len(lines) == 1 + len(sessions(corpus("pcap", "arkime", "dns-udp.pcap")))
    p = run("sessions", "--csv", corpus("pcap", "arkime", "dns-udp.pcap"))
    assert p.stdout.decode().splitlines()[0].startswith("time,ip.proto,ip.src")


def test_summary_counts_sessions():
    p = run("sessions", "--summary", corpus("pcap", "arkime", "dns-udp.pcap"))
    assert "3 sessions from 5 packets" in p.stdout.decode()


def test_missing_file_is_a_clear_error():
    p = run("sessions", "/nonexistent.pcap", check=False)
    assert p.returncode == 2
    assert b"/nonexistent.pcap" in p.stderr


def test_not_a_capture_is_a_clear_error(tmp_path):
    f = tmp_path / "junk.pcap"
    f.write_bytes(b"this is not a capture file at all\n" * 10)
    p = run("sessions", str(f), check=False)
    assert p.returncode == 2
    assert b"junk.pcap" in p.stderr


def test_truncated_capture_keeps_what_was_read(tmp_path):
    src = open(corpus("pcap", "arkime", "http-simple-get.pcap"), "rb").read()
    f = tmp_path / "cut.pcap"
    f.write_bytes(src[: len(src) - 100])
    p = run("sessions", "--jsonl", str(f), check=False)
    assert p.returncode == 1
    assert b"cut.pcap" in p.stderr
    recs = [json.loads(l) for l in p.stdout.decode().splitlines()]
    assert len(recs) == 1 and recs[0]["packets.src"] >= 5


def test_bad_option_values_exit_2():
    assert run("sessions", "-t", "many", "x.pcap", check=False).returncode == 2
    assert run("sessions", "--bogus", check=False).returncode == 2
    assert run("nosuchcommand", check=False).returncode == 2


def test_every_command_has_help():
    for cmd in (["--help"], ["sessions", "--help"], ["capture", "--help"], ["keys", "--help"]):
        p = run(*cmd)
        assert b"usage" in p.stdout


def test_bad_bpf_filter_is_rejected():
    p = run("sessions", "-f", "port port", corpus("pcap", "arkime", "dns-udp.pcap"), check=False)
    assert p.returncode == 2 and b"filter" in p.stderr


def test_bpf_filter_applies():
    got = sessions("-f", "udp", corpus("pcap", "arkime", "http-simple-get.pcap"), corpus("pcap", "arkime", "dns-udp.pcap"))
    assert got and all(g["ip.proto"] == 17 for g in got)


def all_captures():
    out = []
    for d, _, files in os.walk(corpus("pcap")):
        for f in files:
            if f.endswith((".pcap", ".pcapng", ".cap")) or ".pcap" in f and not f.endswith((".out", ".test", ".yaml")):
                out.append(os.path.join(d, f))
    return sorted(out)


def test_every_corpus_capture_runs_without_crash():
    caps = all_captures()
    assert len(caps) > 700
    bad = []
    for c in caps:
        p = subprocess.run([VAKT, "sessions", "--jsonl", "--no-dpi", c], capture_output=True, timeout=60)
        if p.returncode < 0 or p.returncode > 2:
            bad.append((c, p.returncode, p.stderr[-300:]))
            continue
        for line in p.stdout.decode("utf-8").splitlines():
            json.loads(line)
    assert not bad, bad[:5]


def test_ftp_data_sessions_tied_to_control_in_both_modes():
    # zeek/ftp/ipv4.pcap: RETR robots.txt once over PASV (port 56667) and once over PORT
    # (37835); zeek's ftp.log has both transfers of the 77-byte file.
    got = sessions(corpus("pcap", "zeek", "ftp", "ipv4.pcap"))
    ctl = [g for g in got if g.get("port.dst") == 21]
    assert len(ctl) == 1
    data = {g["port.dst"]: g for g in got if g.get("session.parent") == ctl[0]["id"]}
    assert data[56667].get("file.name") == "robots.txt" and data[56667]["file.size"] == 77
    assert data[37835].get("file.name") == "robots.txt" and data[37835]["file.size"] == 77
    assert all(g["service"] == "ftp-data" for g in data.values())
