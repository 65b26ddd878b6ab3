"""End-to-end: threat intel applied by `vakt ingest`, and the retro-hunt over stored history."""
import json
import os

from conftest import corpus, run

MALTRAIL = corpus("intel", "maltrail", "sensor", "tests", "corpus")
# maltrail's behavioural detections (scans, DGA, injections...) are detection rules, not
# indicators: a later issue. Every other expectation is a trail match.
HEURISTICS = {
    "potential port scanning", "potential udp scanning", "potential infection", "potential web scanning",
    "excessive no such domain", "no such domain (suspicious)", "potential sql injection",
    "potential directory traversal", "potential remote code execution", "potential xss injection",
    "potential iot-malware download", "potential proxy probe", "direct .exe download", "user agent (suspicious)",
    "sinkhole response", "content type (suspicious)", "seized domain",
}


# maltrail's notation names the part of a name that matched: "(www).evil-parent.com" is the
# trail evil-parent.com seen as www.evil-parent.com; two detections name the trail's info.
# What vakt records for them (threat.indicator, threat.category):
SPELLED = {
    "(www).evil-parent.com": "evil-parent.com",
    "badsite.onion(.to)": "badsite.onion",
    "evilname(.ip-adress.com)": "evilname",
    "sinkholed by testsink": "sinkhole testsink (malware)",
    "parked site": "parking site (suspicious)",
}


def query(d, q):
    p = run("query", "--data", d, "--format", "jsonl", q)
    return [json.loads(x) for x in p.stdout.decode().splitlines() if x.strip()]


def test_maltrail_captures_through_vakt_ingest_find_every_trail(tmp_path):
    manifest = json.load(open(os.path.join(MALTRAIL, "manifest.json")))
    expected = found = 0
    missed = []
    for case in manifest:
        want = [e for e in case["expect"] if e not in HEURISTICS]
        if not want:
            continue
        d = str(tmp_path / case["name"])
        run("intel", "add", "--data", d, "maltrail-tests", os.path.join(MALTRAIL, "trails.csv"), "--format", "csv")
        run("ingest", "--data", d, os.path.join(MALTRAIL, case["pcap"]))
        tagged = [json.dumps(r).lower() for r in query(d, "threat.source=maltrail-tests")]
        for w in want:
            expected += 1
            if any(SPELLED.get(w, w).lower() in t for t in tagged):
                found += 1
            else:
                missed.append((case["name"], w))
    print("maltrail peer check through vakt ingest: %d of %d" % (found, expected))
    assert expected == 35
    assert found == expected, missed


def test_retro_hunt_finds_indicators_added_after_ingest(tmp_path):
    d = str(tmp_path / "d")
    run("ingest", "--data", d, corpus("pcap", "arkime", "http-simple-get.pcap"), corpus("pcap", "arkime", "dns-udp.pcap"))
    assert not query(d, "exists threat.source")
    feed = tmp_path / "bad.txt"
    feed.write_text("# test feed\n10.180.156.249\n")
    p = run("intel", "add", "--data", d, "late", str(feed), "--format", "list")
    assert b"retro-hunt" in p.stdout and b"1 hits" in p.stdout
    hits = [json.loads(x) for x in run("intel", "hits", "--data", d, "--json").stdout.decode().splitlines() if x.strip()]
    if len(hits) == 1 and isinstance(hits[0], list):
        hits = hits[0]
    assert len(hits) == 1
    h = hits[0]
    rec = query(d, "ip.dst=10.180.156.249")[0]
    assert h["indicator"] == "10.180.156.249" and h["feed"] == "late" and h["session"] == rec["id"]
    # a second hunt finds nothing new; a later ingest is tagged at ingest instead
    p = run("intel", "hunt", "--data", d)
    assert b"hits" not in p.stdout
    run("ingest", "--data", d, corpus("pcap", "arkime", "http-simple-get.pcap"))
    tagged = query(d, "threat.source=late")
    assert len(tagged) == 1 and tagged[0]["threat.indicator"] == "10.180.156.249"
