"""End-to-end tests of `vakt intel` and `vakt assets`: feeds from files and from a local
HTTP server (ETag / If-None-Match, a failed and a truncated download keep the last good
version), status table and JSON, lookups, hits and the asset inventory."""
import http.server
import json
import os
import shutil
import socket
import tempfile
import threading

import pytest

from conftest import corpus, run

TRAILS = corpus("intel", "maltrail", "sensor", "tests", "corpus", "trails.csv")


@pytest.fixture
def data(tmp_path):
    return str(tmp_path / "vd")


def lookup(d, *values):
    p = run("intel", "lookup", "--data", d, *values)
    return [json.loads(line) for line in p.stdout.decode().splitlines()]


def as_list(v):
    return [] if v is None else (v if isinstance(v, list) else [v])


def test_add_status_lookup(data):
    p = run("intel", "add", "--data", data, "mt", TRAILS, "--format", "csv")
    assert p.stdout.decode().startswith("feed mt: 20 indicators")
    st = json.loads(run("intel", "status", "--data", data, "--json").stdout)
    assert [f["name"] for f in st] == ["mt"]
    assert st[0]["count"] == 20 and st[0]["error"] is None and st[0]["format"] == "csv"
    table = run("intel", "status", "--data", data).stdout.decode()
    assert table.splitlines()[0].split()[:4] == ["NAME", "FORMAT", "COUNT", "SUPPRESSED"]
    assert table.splitlines()[1].split()[:3] == ["mt", "csv", "20"]
    r = lookup(data, "www.evil-parent.com", "6.6.6.6:8443", "6.6.6.6:80", "clean.example")
    assert r[0]["threat.indicator"] == "evil-parent.com"
    assert r[0]["threat.source"] == "mt" and r[0]["threat.category"] == "malware (test)"
    assert r[1]["threat.indicator"] == "6.6.6.6:8443"
    assert "threat.source" not in r[2] and "threat.source" not in r[3]


def test_warninglist_and_bad_input(data, tmp_path):
    run("intel", "add", "--data", data, "mt", TRAILS, "--format", "csv")
    wl = corpus("intel", "misp-warninglists", "lists", "rfc5735", "list.json")
    run("intel", "add", "--data", data, "rfc5735", wl, "--format", "warninglist")
    st = {f["name"]: f for f in json.loads(run("intel", "status", "--data", data, "--json").stdout)}
    # 198.51.100.x and 203.0.113.x are documentation ranges (RFC 5735): suppressed
    assert st["mt"]["suppressed"] == 5
    assert "threat.source" not in lookup(data, "198.51.100.66")[0]
    assert lookup(data, "66.66.66.66")[0]["threat.source"] == "mt"
    bad = tmp_path / "bad.csv"
    bad.write_text("ip,threat.category\n1.2.3.4,x\nnot-an-ip,y\n")
    p = run("intel", "add", "--data", data, "bad", str(bad), "--format", "csv", check=False)
    assert p.returncode == 2
    assert p.stderr.decode().strip() == "vakt: intel add: feed 'bad': bad.csv line 3: column 1 (ip): not a valid ip: 'not-an-ip'"
    assert [f["name"] for f in json.loads(run("intel", "status", "--data", data, "--json").stdout)] == ["mt", "rfc5735"]
    p = run("intel", "add", "--data", data, "x", TRAILS, check=False)
    assert p.returncode == 2 and b"--format" in p.stderr
    assert run("intel", "add", "--help").stdout.startswith(b"usage: vakt intel add")


class Feed(http.server.BaseHTTPRequestHandler):
    body = b""
    etag = '"v1"'
    status = 200
    truncate = False
    seen = []

    def do_GET(self):
        Feed.seen.append((self.path, self.headers.get("If-None-Match")))
        if Feed.status != 200:
            self.send_response(Feed.status)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if self.headers.get("If-None-Match") == Feed.etag:
            self.send_response(304)
            self.send_header("ETag", Feed.etag)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("ETag", Feed.etag)
        self.send_header("Content-Length", str(len(Feed.body) + (100 if Feed.truncate else 0)))
        self.end_headers()
        self.wfile.write(Feed.body)
        if Feed.truncate:
            self.wfile.flush()
            self.close_connection = True

    def log_message(self, *a):
        pass


@pytest.fixture
def server():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Feed)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield "http://127.0.0.1:%d" % srv.server_address[1]
    srv.shutdown()
    srv.server_close()


def test_http_feed(data, server):
    Feed.body, Feed.etag, Feed.status, Feed.truncate, Feed.seen = b"evil.example\n1.2.3.4\n", '"v1"', 200, False, []
    run("intel", "add", "--data", data, "web", server + "/list.txt", "--format", "list", "--every", "1h")
    assert lookup(data, "a.evil.example")[0]["threat.source"] == "web"
    # unchanged: the server answers 304 to If-None-Match
    assert run("intel", "update", "--data", data, "web").stdout == b"0 feeds changed\n"
    assert Feed.seen[-1] == ("/list.txt", '"v1"')
    # a new version: new indicators are reported and journalled
    Feed.body, Feed.etag = b"evil.example\n1.2.3.4\nnew.example\n", '"v2"'
    p = run("intel", "update", "--data", data, "web", "--new")
    assert p.stdout.decode().splitlines() == ["new\tweb\tdomain\tnew.example", "1 feed changed"]
    with open(os.path.join(data, "intel", "new.jsonl")) as f:
        last = json.loads(f.read().splitlines()[-1])
    assert last["feed"] == "web" and last["value"] == "new.example"
    # a failed download keeps the last good version, and says why
    Feed.status = 500
    p = run("intel", "update", "--data", data, "web", check=False)
    assert p.returncode == 1 and b"HTTP 500" in p.stderr
    st = json.loads(run("intel", "status", "--data", data, "--json").stdout)[0]
    assert st["error"] == "feed 'web': %s/list.txt: HTTP 500" % server and st["count"] == 3
    assert lookup(data, "new.example")[0]["threat.source"] == "web"
    # a truncated download too
    Feed.status, Feed.etag, Feed.truncate = 200, '"v3"', True
    Feed.body = b"other.example\n"
    p = run("intel", "update", "--data", data, "web", check=False)
    assert p.returncode == 1
    st = json.loads(run("intel", "status", "--data", data, "--json").stdout)[0]
    assert st["error"].startswith("feed 'web': download truncated: got 14 of 114 bytes"), st["error"]
    assert lookup(data, "new.example")[0]["threat.source"] == "web"
    assert "threat.source" not in lookup(data, "other.example")[0]


def test_hits(data):
    assert run("intel", "hits", "--data", data).stdout == b"(no hits in %s)\n" % data.encode()
    os.makedirs(os.path.join(data, "intel"))
    with open(os.path.join(data, "intel", "hits.jsonl"), "w") as f:
        f.write('{"time":1700000000000,"feed":"mt","type":"domain","indicator":"evil.example","key":"dns.query",'
                '"session":"abc","category":"malware","retro":true}\n')
        f.write('{"time":1700000001000,"feed":"other","type":"ip","indicator":"1.2.3.4","key":"ip.dst",'
                '"session":"def","retro":false}\n')
    out = run("intel", "hits", "--data", data, "--feed", "mt").stdout.decode().splitlines()
    assert out[0].split()[:4] == ["TIME", "FEED", "TYPE", "INDICATOR"]
    assert out[1].split() == ["2023-11-14", "22:13:20", "mt", "domain", "evil.example", "dns.query", "abc", "malware",
                              "(retro)"]
    js = run("intel", "hits", "--data", data, "--json", "--limit", "1").stdout.decode().splitlines()
    assert len(js) == 1 and json.loads(js[0])["session"] == "def"


def test_assets(data, tmp_path):
    a = tmp_path / "assets.csv"
    a.write_text("ip,host,name,owner,process,criticality,classification,compliance\n"
                 "10.1.2.3,,db01,dba,billing;payroll,5,confidential,PCI;GDPR\n"
                 ",*.shop.example,shop,web,sales,4,public,PCI\n")
    assert run("assets", "import", "--data", data, str(a)).stdout.startswith(b"2 asset rows imported")
    r = lookup(data, "10.1.2.3", "cart.shop.example")
    assert r[0]["asset.dst.name"] == "db01" and r[0]["asset.criticality"] == 5
    assert sorted(as_list(r[0]["asset.compliance"])) == ["GDPR", "PCI"]
    assert r[1]["asset.dst.name"] == "shop"
    lst = json.loads(run("assets", "list", "--data", data, "--json").stdout)
    assert [x["match"] for x in lst] == ["10.1.2.3", "*.shop.example"]
    bad = tmp_path / "bad.csv"
    bad.write_text("ip,name,criticality\n10.0.0.1,x,9\n")
    p = run("assets", "import", "--data", data, str(bad), check=False)
    assert p.returncode == 2
    assert p.stderr.decode().strip() == "vakt: assets import: %s row 1: criticality must be a whole number 1-5, not '9'" % bad


def test_data_env_default(tmp_path):
    env_dir = str(tmp_path / "envdata")
    os.environ["VAKT_DATA"] = env_dir
    try:
        run("intel", "add", "mt", TRAILS, "--format", "csv")
        assert os.path.exists(os.path.join(env_dir, "intel", "feeds.json"))
        assert os.path.exists(os.path.join(env_dir, "intel", "cache", "mt.tsv"))
    finally:
        del os.environ["VAKT_DATA"]
