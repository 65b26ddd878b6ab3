"""Golden tests: vakt against the peers' expected outputs in ../shared/corpus, through the
scorers in ../shared/tools. Thresholds are the issue's acceptance levels."""
import json
import os
import subprocess

from conftest import TOOLS, VAKT, corpus


def score(tool, sub):
    p = subprocess.run([os.path.join(TOOLS, tool), "--json", "--cmd", VAKT + " sessions --jsonl {pcap}",
                        corpus("pcap", sub)], capture_output=True, timeout=1200)
    assert p.returncode == 0, p.stderr.decode()[-2000:]
    return json.loads(p.stdout)


def test_arkime_goldens():
    s = score("score-arkime", "arkime")
    assert s["crashes"] == 0, s.get("crash_list")
    assert s["session_recall"] >= 0.95, s["session_recall"]
    assert s["field_agreement"] >= 0.90, s["field_agreement"]


def test_ndpi_goldens():
    s = score("score-ndpi", "ndpi")
    assert s["crashes"] == 0, s.get("crash_list")
    assert s["flow_recall"] >= 0.95, s
    assert s["host"] >= 0.90, s
    assert s["master"] >= 0.90, s
