"""The transport registry, the plan of a set of subjects, and the local transport's process handling."""

from __future__ import annotations

import importlib.util
import time

import pytest

from scanner.collect import CollectError, Plan, plan_for, transport_for
from scanner.collect.local import collect, run_script
from scanner.facts import SUBJECTS
from scanner.inventory import Host


def _host(transport: str, **extra: str) -> Host:
    return Host(name="h1", zone="mgmt", role="server", transport=transport, **extra)  # type: ignore[arg-type]


def test_plan_for_unions_the_subjects_sorted() -> None:
    names = ["accounts", "logs", "sshd", "network"]
    plan = plan_for(names)
    assert plan.files == tuple(sorted({f for n in names for f in SUBJECTS[n].files}))
    assert plan.stats == tuple(sorted({f for n in names for f in SUBJECTS[n].stats}))
    assert plan.probes == tuple(sorted({p for n in names for p in SUBJECTS[n].probes}))
    assert plan_for([]) == Plan()
    with pytest.raises(KeyError):
        plan_for(["no-such-subject"])


def test_transport_for_each_kind() -> None:
    from scanner.collect import files, local, snapshot

    assert transport_for(_host("local")) is local.collect
    assert transport_for(_host("files")) is files.collect
    assert transport_for(_host("snapshot")) is snapshot.collect
    with pytest.raises(CollectError, match="windows transport not available"):
        transport_for(_host("windows"))(_host("windows"), Plan(), 1)


def test_ssh_hook_until_the_module_exists() -> None:
    if importlib.util.find_spec("scanner.collect.ssh") is not None:
        assert callable(transport_for(_host("ssh")))
        return
    with pytest.raises(CollectError, match="ssh transport not available yet") as info:
        transport_for(_host("ssh"))(_host("ssh"), Plan(), 1)
    assert info.value.status == "error"


def test_local_collect_end_to_end() -> None:
    raw = collect(_host("local"), Plan(files=("/etc/hostname", "/etc/os-release"), probes=("ss-listen",)), 60)
    assert raw.host == "h1" and raw.collector["name"] == "kijun-local"
    release = raw.file("/etc/os-release")
    assert release is not None and "ID=debian" in release.text
    probe = raw.probe("ss-listen")
    assert probe is not None and probe.rc == 0


def test_timeout_kills_the_whole_run() -> None:
    started = time.monotonic()
    with pytest.raises(CollectError, match=r"timed out after 0\.5s"):
        run_script("sleep 30 & sleep 30\n", 0.5)
    assert time.monotonic() - started < 10


def test_failing_shell_is_an_error() -> None:
    with pytest.raises(CollectError, match="exited with 3: boom"):
        run_script("echo boom >&2; exit 3\n", 10)
    with pytest.raises(CollectError, match="cannot start"):
        run_script("", 10, ("/nonexistent/sh",))


def test_collect_error_status_is_closed() -> None:
    with pytest.raises(ValueError):
        CollectError("pass", "never")
    assert CollectError("unreachable", "down").status == "unreachable"
