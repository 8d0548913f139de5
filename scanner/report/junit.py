"""The JUnit XML reporter: a testsuite per host, a testcase per control, valid for Jenkins and Ant.

Status mapping (docs/ci.md): fail → ``<failure>``, error and unreachable → ``<error>``, waived and
manual → ``<skipped>`` with the reason as its text, pass → an empty testcase, not_applicable left
out unless asked. A testcase is ``classname="kijun.<zone>.<host>"`` and
``name="<ID> <title ja> / <title en>"``, unique in the file, since GitLab keeps only the first of a
duplicate (classname, name). The XML is written by hand because junit-xml puts ``type`` and
``message`` on ``<skipped>``, which the Jenkins XSD rejects; it satisfies both the Jenkins XSD
(junit-4) and the Ant XSD, so: no attributes on ``<testsuites>``, ``package`` and ``id`` on each
suite, ``properties``/``system-out``/``system-err`` always present, timestamps in UTC without a zone,
and details in the failure's text (Ant allows nothing else inside a testcase).
"""

from __future__ import annotations

import functools
import io
import re
import tempfile
from dataclasses import dataclass, field
from typing import IO
from xml.sax.saxutils import escape, quoteattr

from scanner.report import reading
from scanner.report.labels import citation_text, expected_text, origin_text, utc_text, value_text
from scanner.results import Finding, HostResult, Run, Status

_ERRORS = (Status.ERROR, Status.UNREACHABLE)
_SKIPPED = (Status.WAIVED, Status.MANUAL)
# Characters XML 1.0 cannot carry at all (a host may write any byte): shown as \xNN instead.
_TIME = 'time="\0"'  # filled in per suite; a NUL cannot come from a host (_clean escapes it)
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass
class _Suite:
    """What one host's testsuite needs: where its testcases are in the spool, their counts, nothing else."""

    segments: list[tuple[int, int]] = field(default_factory=list)  # (offset, length) in the spool
    cases: int = 0
    failures: int = 0
    errors: int = 0
    skipped: int = 0
    zone: str = ""


def render(run: Run, failures_only: bool = False, not_applicable: bool = False) -> str:
    """Render a run as JUnit XML, hosts in inventory order (in memory: small runs, tests).

    ``failures_only`` keeps only failures and errors (and hosts that have one), for big scans;
    ``not_applicable`` lists not_applicable controls as skipped.

    >>> Path("junit.xml").write_text(render(run), encoding="utf-8")
    """
    buffer = io.BytesIO()
    write(run, buffer, failures_only, not_applicable)
    return buffer.getvalue().decode("utf-8")


def write(run: Run, handle: IO[bytes], failures_only: bool = False, not_applicable: bool = False) -> None:
    """Write a run as JUnit XML into a binary file; read the findings once, with bounded memory."""
    cases = Cases(run, failures_only, not_applicable)
    reading.feed(run, [cases])
    cases.write(handle)


class Cases:
    """The testcases of a run as the findings go by (a ``reading.Reader``), then the file from them.

    A host's testcases are spooled to a temporary file as they come (a suite's counts open it, so
    they are known only at its end) and copied out in inventory order.
    """

    def __init__(self, run: Run, failures_only: bool = False, not_applicable: bool = False) -> None:
        self.run, self.failures_only, self.not_applicable = run, failures_only, not_applicable
        self.hosts = {h.name: h for h in run.hosts}
        self.suites: dict[str, _Suite] = {}
        self.spool: IO[bytes] = tempfile.TemporaryFile(prefix="kijun-junit-")  # noqa: SIM115 (closed by write)
        self.current, self.cases = "", list[str]()

    def shown(self, status: Status) -> bool:
        if status is Status.NOT_APPLICABLE and not self.not_applicable:
            return False
        return not self.failures_only or status in (Status.FAIL, *_ERRORS)

    def wanted(self, host: str, status: Status) -> bool:
        return host not in self.hosts or self.shown(status)

    def add(self, name: str, status: Status, f: Finding | None) -> None:
        if name != self.current:
            _spool(self.spool, self.suites.get(self.current), self.cases)
            self.current, self.cases = name, []
        suite = self.suites.get(name) or self.suites.setdefault(name, _Suite(zone=f.zone if f else ""))
        if f is None or not self.shown(status):
            return
        self.cases.append(_case(f))
        suite.cases += 1
        suite.failures += status is Status.FAIL
        suite.errors += status in _ERRORS
        suite.skipped += status in _SKIPPED or status is Status.NOT_APPLICABLE

    def write(self, handle: IO[bytes]) -> None:
        """Write the XML of the testcases gathered (after the last finding); close the spool."""
        run, hosts, suites, spool = self.run, self.hosts, self.suites, self.spool
        with spool:
            _spool(spool, suites.get(self.current), self.cases)
            self.current, self.cases = "", []
            names = list(hosts) + [n for n in suites if n not in hosts]
            handle.write(b'<?xml version="1.0" encoding="UTF-8"?>\n<testsuites>\n')
            for index, name in enumerate(names):
                host, suite = hosts.get(name), suites.get(name, _Suite())
                extra = ""
                if host is not None and not host.assessed and not suite.cases:
                    # A host with no findings at all must still break the build as not assessed.
                    extra = "\n" + _collection_case(host)
                    suite.cases, suite.errors = 1, suite.errors + 1
                if self.failures_only and not (suite.failures or suite.errors):
                    continue
                head, tail, per_case = _suite(run, index, name, host, suite)
                handle.write(head.encode("utf-8"))
                time = f'time="{per_case:.3f}"'.encode()
                for offset, length in suite.segments:
                    spool.seek(offset)
                    handle.write(spool.read(length).replace(_TIME.encode(), time))
                handle.write((extra.replace(_TIME, time.decode()) + tail + "\n").encode("utf-8"))
            handle.write(b"</testsuites>\n")


def _spool(spool: IO[bytes], suite: _Suite | None, cases: list[str]) -> None:
    """Append a run of one host's testcases to the spool (each after a newline)."""
    if suite is None or not cases:
        return
    data = "".join("\n" + c for c in cases).encode("utf-8")
    offset = spool.seek(0, 2)
    spool.write(data)
    suite.segments.append((offset, len(data)))


def _suite(run: Run, index: int, name: str, host: HostResult | None, suite: _Suite) -> tuple[str, str, float]:
    """Return one host's testsuite around its cases (its head, its tail) and the time of each case."""
    seconds = round(sum(host.timings.values()), 3) if host else 0.0
    zone = (host.zone if host else suite.zone) or "none"
    props = {
        "zone": zone,
        "role": host.role if host else "",
        "owner": host.owner if host else "",
        "host_status": host.status if host else "assessed",
        "collected_at": (host.collected_at if host else "") or run.started_at,
        "run_id": run.run_id,
        "profile": run.profile,
        "scanner_version": run.scanner_version,
        "fail_on": run.fail_on.value,
        **{f"timing_{k}": str(v) for k, v in (host.timings.items() if host else ())},
    }
    per_case = round(seconds / suite.cases, 3) if suite.cases else 0.0
    attrs = {
        "name": name,
        "package": f"kijun.{zone}",
        "id": str(index),
        "hostname": (host.address if host else "") or name,
        "timestamp": utc_text((host.collected_at if host else "") or run.started_at),
        "tests": str(suite.cases),
        "failures": str(suite.failures),
        "errors": str(suite.errors),
        "skipped": str(suite.skipped),
        "time": f"{seconds:.3f}",
    }
    lines = [f"  <testsuite {_attrs(attrs)}>", "    <properties>"]
    lines += [f"      <property {_attrs({'name': k, 'value': v})}/>" for k, v in props.items()]
    lines.append("    </properties>")
    return (
        "\n".join(lines),
        "\n" + "\n".join(["    <system-out/>", "    <system-err/>", "  </testsuite>"]),
        per_case,
    )


def _case(f: Finding) -> str:
    """Render one finding as a testcase; the time is filled in per suite."""
    head = {
        "classname": f"kijun.{f.zone or 'none'}.{f.host}",
        "name": f"{f.control_id} {f.title_ja} / {f.title_en}".strip(" /"),
    }
    if f.status is Status.PASS:
        return f"    <testcase {_attrs(head)} {_TIME}/>"
    if f.status is Status.FAIL:
        body = _element("failure", {"type": f"{f.severity.value}", "message": _failure_message(f)}, f)
    elif f.status in _ERRORS:
        reason = f.message or "; ".join(c.message for c in f.checks if c.message) or f.status.value
        body = _element("error", {"type": f.status.value, "message": f"{f.status.value}: {reason}"}, f)
    else:
        body = f"<skipped>{_text(_skip_reason(f))}</skipped>"
    return f"    <testcase {_attrs(head)} {_TIME}>{body}</testcase>"


def _collection_case(host: HostResult) -> str:
    """Render the error testcase of a host that was not assessed and has no findings."""
    head = {
        "classname": f"kijun.{host.zone or 'none'}.{host.name}",
        "name": "collection 収集 / collection",
    }
    message = f"{host.status}: {host.message or 'not assessed'}"
    attrs = _attrs({"type": host.status, "message": message})
    return f"    <testcase {_attrs(head)} {_TIME}><error {attrs}>{_text(message)}</error></testcase>"


def _element(tag: str, attrs: dict[str, str], f: Finding) -> str:
    """Render a failure or error element whose text holds the finding's details."""
    return f"<{tag} {_attrs(attrs)}>{_text(_details(f))}</{tag}>"


def _failure_message(f: Finding) -> str:
    """Say what failed: severity, then observed vs expected of each failing check."""
    parts = [
        f"{c.check_id}: observed {value_text(c.observed)}, expected {expected_text(c.expected)[1]}"
        for c in f.checks
        if c.status is Status.FAIL
    ]
    return f"[{f.severity.value}] " + ("; ".join(parts) or f.message or "fail")


def _skip_reason(f: Finding) -> str:
    """Say why a finding is skipped: the waiver, the attestation needed, or why it does not apply."""
    if f.status is Status.WAIVED and f.waiver:
        w = f.waiver
        return (
            f"waived 例外措置: {w.id} until {w.expires or '?'} "
            f"(approved by {w.approved_by or '?'}, {w.approver_role or '?'}): {w.reason}"
        ).rstrip(": ")
    if f.status is Status.MANUAL:
        return f"manual 要確認(手動): attestation required: {f.attestation or f.message or '?'}"
    return f"{f.status.value}: {f.message or '-'}"


def _details(f: Finding) -> str:
    """Return the finding's details as ``key: value`` lines (Ant allows nothing else in a testcase)."""
    lines = [f"severity: {f.severity.value}", f"status: {f.status.value}"]
    if f.message:
        lines.append(f"message: {f.message}")
    for c in f.checks:
        if c.status in (Status.FAIL, *_ERRORS):
            ja, en = expected_text(c.expected)
            lines.append(f"check {c.check_id}: {c.status.value}; observed {value_text(c.observed)}")
            lines.append(f"  expected: {ja}" + (f" / {en}" if en != ja else ""))
            where = origin_text(c)
            if where:
                lines.append(f"  set in: {where}")
            if c.message:
                lines.append(f"  {c.message}")
    lines += [f"citation: {citation_text(c)}" for c in f.citations]
    if f.waiver:
        w = f.waiver
        state = "applied" if w.applied else "not applied"
        lines.append(
            f"waiver {w.id} {state}: {w.reason} (expires {w.expires}, approved by {w.approved_by}, "
            f"{w.approver_role})"
        )
    lines += [f"remediation: {r}" for r in (f.remediation_ja, f.remediation_en) if r]
    evidence = sorted({e for c in f.checks for e in c.evidence})
    if evidence:
        lines.append(f"evidence: {', '.join(evidence)}")
    return "\n".join(lines)


def _clean(value: str) -> str:
    """Replace characters XML 1.0 cannot carry with a visible \\xNN."""
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02x}", value)


def _text(value: str) -> str:
    return escape(_clean(value))


def _attrs(attrs: dict[str, str]) -> str:
    """Render attributes escaped, newlines and tabs kept as character references."""
    return " ".join(f"{k}={_quoted(v)}" for k, v in attrs.items())


_ENTITIES = {"\n": "&#10;", "\r": "&#13;", "\t": "&#9;"}


@functools.lru_cache(maxsize=8192)  # class names (per host) and test names (per control) repeat
def _quoted(value: str) -> str:
    return quoteattr(_clean(value), _ENTITIES)
