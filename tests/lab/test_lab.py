"""The lab itself: isolation (no default route, nothing leaves the lab) and complete cleanup."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.lab.lab import Lab, build
from tests.lab.netlab import teardown
from tests.lab.netns import NETNS_ETC, STATE, cleanup_stale, run

pytestmark = pytest.mark.lab


def namespaces() -> set[str]:
    return {
        line.split()[0] for line in run("ip", "netns", "list").stdout.decode().splitlines() if line.strip()
    }


def test_no_namespace_has_a_default_route(lab: Lab) -> None:
    for ns in lab.namespaces:
        routes = json.loads(
            run("ip", "netns", "exec", ns, "ip", "-j", "route", "show", "table", "all").stdout
        )
        assert [r for r in routes if r.get("dst") == "default"] == [], ns


def test_router_drops_what_is_not_for_the_lab(lab: Lab) -> None:
    ruleset = run("ip", "netns", "exec", lab.router, "nft", "list", "ruleset").stdout.decode()
    assert "policy drop" in ruleset
    assert 'ip daddr != @lab drop comment "nothing leaves the lab"' in ruleset
    # The scanner's own routes into the lab go through its veth only, never to a real interface.
    routes = json.loads(run("ip", "-j", "route").stdout)
    lab_routes = [r for r in routes if r.get("dst", "").startswith(lab.prefix)]
    assert lab_routes and {r["dev"] for r in lab_routes} == {f"kj{lab.id}s"}


def test_teardown_and_stale_cleanup_remove_everything() -> None:
    first = build()
    pids = [int(p) for ns in first.namespaces for p in run("ip", "netns", "pids", ns).stdout.split()]
    assert pids
    teardown(first)
    assert not {ns for ns in namespaces() if ns.startswith(f"kj-{first.id}-")}
    assert not any(NETNS_ETC.glob(f"kj-{first.id}-*")) if NETNS_ETC.exists() else True
    assert not first.dir.exists() and not (STATE / first.id).exists()
    assert run("ip", "link", "show", f"kj{first.id}s", check=False).returncode != 0
    assert not any(Path(f"/proc/{pid}").exists() for pid in pids)
    # A crashed run: its owner pid is gone, so the next run's cleanup removes its lab.
    crashed = build()
    gone = subprocess.Popen(["true"])
    gone.wait()
    (STATE / crashed.id).write_text(str(gone.pid))
    try:
        removed = cleanup_stale()
        assert set(removed) == set(crashed.namespaces)
        assert not crashed.dir.exists() and not (STATE / crashed.id).exists()
        assert run("ip", "link", "show", f"kj{crashed.id}s", check=False).returncode != 0
    finally:
        teardown(crashed)
