"""Shared fixtures for vakt's end-to-end tests: the binary under test and the corpus."""
import json
import os
import subprocess

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
CORPUS = os.environ.get("VAKT_CORPUS", os.path.abspath(os.path.join(ROOT, "..", "shared", "corpus")))
VAKT = os.environ.get("VAKT_BIN", os.path.join(ROOT, "vakt"))
TOOLS = os.path.abspath(os.path.join(CORPUS, "..", "tools"))


def pytest_configure(config):
    config.addinivalue_line("markers", "soak: long-running tests, run by `make soak`")


def pytest_collection_modifyitems(config, items):
    if os.environ.get("VAKT_SOAK"):
        return
    skip = pytest.mark.skip(reason="soak test: run with make soak")
    for it in items:
        if "soak" in it.keywords:
            it.add_marker(skip)


def corpus(*parts):
    return os.path.join(CORPUS, *parts)


def run(*args, timeout=120, check=True):
    p = subprocess.run([VAKT, *args], capture_output=True, timeout=timeout)
    if check and p.returncode != 0:
        raise AssertionError("vakt %s exited %d: %s" % (" ".join(args), p.returncode, p.stderr.decode()[-2000:]))
    return p


def sessions(*args, **kw):
    """Run `vakt sessions --jsonl ARGS` and return the parsed records."""
    p = run("sessions", "--jsonl", *args, **kw)
    return [json.loads(line) for line in p.stdout.decode().splitlines() if line.strip()]


def first(v):
    return v[0] if isinstance(v, list) else v


def as_list(v):
    return [] if v is None else (v if isinstance(v, list) else [v])
