"""Facts of subject 'time': which service keeps the clock, its sources, and whether it is synchronised."""

from __future__ import annotations

import re
from typing import Any

from scanner.facts import ORIGINS, Context, Subject, lines
from scanner.facts.services import probe_text, units
from scanner.rawfacts import Item, RawFacts

_CHRONY_CONFS = ("/etc/chrony/chrony.conf", "/etc/chrony.conf")
_TIMESYNCD = "/etc/systemd/timesyncd.conf"
_SERVICES = {
    "chrony": ("chrony.service", "chronyd.service"),
    "timesyncd": ("systemd-timesyncd.service",),
    "ntpd": ("ntp.service", "ntpd.service", "ntpsec.service"),
}
_SOURCES = ("server", "pool", "peer")
_MAX_DEPTH = 16
_PROBES = ("chronyc-tracking", "timedatectl", "timesync-status", "systemctl-units")


def _keyvalues(text: str) -> dict[str, str]:
    pairs = (line.partition("=") for line in text.splitlines())
    return {key: value for key, sep, value in pairs if sep}


def _chrony_dir(raw: RawFacts, directories: list[str], suffix: str) -> list[Item]:
    """Return the files of confdir/sourcedir directories as chronyd reads them.

    Only names ending in ``suffix``; a name in an earlier directory hides the same name in a later
    one; all in file-name order.
    """
    chosen: dict[str, Item] = {}
    for directory in directories:
        folder = directory.rstrip("/") or "/"
        for item in raw.glob(folder.rstrip("/") + "/*"):
            path = item.path or ""
            name = path.rsplit("/", 1)[1]
            if path.rsplit("/", 1)[0] == folder.rstrip("/") and name.endswith(suffix) and name not in chosen:
                chosen[name] = item
    return [chosen[name] for name in sorted(chosen)]


def _chrony_servers(raw: RawFacts, where: list[dict[str, Any]] | None = None) -> list[str] | None:
    """Return chrony's sources from its config, following include, confdir and sourcedir.

    ``where`` (when given) receives the file and line of each source, in the same order.

    Directive names are case-insensitive and '!', ';', '#' or '%' first on a line starts a comment,
    as chronyd reads them (checked against `chronyd -p` in tests/reference).
    """
    main = next((it for p in _CHRONY_CONFS if (it := raw.file(p)) is not None and it.exists), None)
    if main is None:
        return None
    servers: list[str] = []

    def read(item: Item, depth: int = 0) -> None:
        # chronyd reads a file again each time it is named; only a loop is an error.
        if depth > _MAX_DEPTH:
            raise ValueError(f"chrony: include nesting deeper than {_MAX_DEPTH} at {item.path}")
        for number, line in enumerate(item.text.splitlines(), 1):
            words = line.split()
            if not words or words[0][0] in "!;#%":
                continue
            directive = words[0].lower()
            if directive in _SOURCES and len(words) > 1:
                servers.append(words[1])
                if where is not None:
                    where.append({"file": item.path, "line": number})
            elif directive == "include" and len(words) > 1:
                matches = raw.glob(words[1])
                if not matches and not any(c in words[1] for c in "*?["):
                    # chronyd refuses to start on a missing include (a glob may match nothing)
                    raise ValueError(f"chrony: include {words[1]}: no such file (or not collected)")
                for each in matches:
                    read(each, depth + 1)
            elif directive in ("confdir", "sourcedir"):
                for found in _chrony_dir(raw, words[1:], ".conf" if directive == "confdir" else ".sources"):
                    read(found, depth + 1)

    read(main)
    return servers


def _timesyncd_servers(raw: RawFacts) -> list[str] | None:
    """Return NTP= servers from timesyncd.conf and its drop-ins (FallbackNTP= when NTP= is empty)."""
    conf = raw.file(_TIMESYNCD)
    if conf is None:
        return None
    settings: dict[str, list[str]] = {"NTP": [], "FallbackNTP": []}
    for item in [conf, *raw.glob("/etc/systemd/timesyncd.conf.d/*.conf")]:
        for line in lines(item):
            key, _, value = line.partition("=")
            if key.strip() in settings:
                # An empty assignment resets the list, as systemd does.
                settings[key.strip()] = settings[key.strip()] + value.split() if value.strip() else []
    return settings["NTP"] or settings["FallbackNTP"]


def _service(raw: RawFacts, tracking: str | None) -> str | None:
    listed = units(raw)
    if listed is not None:
        for name, unit_names in _SERVICES.items():
            if any(listed[u].active == "active" for u in unit_names if u in listed):
                return name
    if tracking is not None:
        return "chrony"  # chronyd answers even when it was not started by systemd
    if listed is not None or any(raw.probe(p) is not None for p in _PROBES):
        return "none"
    return None


def _tracking(text: str) -> dict[str, Any]:
    """Parse ``chronyc -n tracking`` into synchronized, offset_ms and stratum."""
    fields = {k.strip(): v.strip() for k, _, v in (line.partition(":") for line in text.splitlines()) if v}
    offset = re.fullmatch(
        r"([-+]?\d+(?:\.\d+)?) seconds (fast|slow) of NTP time", fields.get("System time", "")
    )
    if offset is None or "Stratum" not in fields or "Leap status" not in fields:
        raise ValueError("chronyc tracking: unexpected output")
    return {
        # 00000000: no source yet; 7F7F0101 (127.127.1.1): chronyd serving its own clock ("local").
        "synchronized": fields["Leap status"] != "Not synchronised"
        and not fields.get("Reference ID", "").startswith(("00000000", "7F7F0101")),
        "offset_ms": abs(float(offset.group(1))) * 1000,
        "stratum": int(fields["Stratum"]),
    }


def parse(raw: RawFacts, ctx: Context) -> dict[str, Any]:
    """Return ``service, servers, synchronized, offset_ms, stratum``."""
    tracking = probe_text(raw, "chronyc-tracking")
    service = _service(raw, tracking)
    out: dict[str, Any] = {}
    if service is not None:
        out["service"] = service
    where: list[dict[str, Any]] = []
    chrony, timesyncd = _chrony_servers(raw, where), _timesyncd_servers(raw)
    # ntpd's own configuration is not collected: its sources stay unknown.
    servers = timesyncd if service == "timesyncd" else chrony if chrony is not None else timesyncd
    if servers is not None and service != "ntpd":
        out["servers"] = servers
        if servers is chrony and where:
            out[ORIGINS] = {"servers": where[0]}  # the first source chronyd reads
    if tracking is not None:
        out.update(_tracking(tracking))
        return out
    show = probe_text(raw, "timedatectl")
    if show is not None:
        out["synchronized"] = _keyvalues(show).get("NTPSynchronized") == "yes"
    elif service == "none":
        out["synchronized"] = False  # nothing keeps this clock in step
    status = probe_text(raw, "timesync-status")
    if service == "timesyncd" and status is not None:
        stratum = re.search(r"\bStratum=(\d+)", _keyvalues(status).get("NTPMessage", ""))
        if stratum:
            out["stratum"] = int(stratum.group(1))
    return out


SUBJECT = Subject(
    name="time",
    parse=parse,
    files=(
        # Debian's confdir and sourcedirs (dhclient writes /run/chrony-dhcp; never chrony.keys); the
        # collector also brings the files that include, confdir and sourcedir name elsewhere.
        "/etc/chrony/chrony.conf", "/etc/chrony/conf.d/*", "/etc/chrony/sources.d/*",
        "/run/chrony-dhcp/*", "/etc/chrony.conf", "/etc/chrony.d/*",
        _TIMESYNCD, "/etc/systemd/timesyncd.conf.d/*",
    ),
    probes=_PROBES,
)  # fmt: skip
