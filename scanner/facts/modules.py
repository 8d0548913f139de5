"""Facts of subject 'modules': kernel modules blacklisted or disabled in modprobe.d, and loaded ones."""

from __future__ import annotations

import posixpath
from typing import Any

from scanner.facts import ORIGINS, Context, Subject, lines
from scanner.rawfacts import Item, RawFacts

# kmod reads these directories; a file in an earlier one hides a same-named file in a later one,
# and the files chosen are read in file-name order whatever their directory (libkmod, kmod 30).
_DIRS = (
    "/etc/modprobe.d",
    "/run/modprobe.d",
    "/usr/local/lib/modprobe.d",
    "/usr/lib/modprobe.d",
    "/lib/modprobe.d",
)
_DISABLING = {"/bin/true", "/bin/false", "/usr/bin/true", "/usr/bin/false", "true", "false"}
_NAMED = {"blacklist", "install", "remove", "options", "softdep"}


def _norm(name: str) -> str:
    return name.replace("-", "_")


def _config_files(raw: RawFacts) -> list[Item]:
    """Return the modprobe.d files modprobe would read, in the order it reads them."""
    chosen: dict[str, Item] = {}
    for directory in _DIRS:
        for item in raw.glob(directory + "/*"):
            base = posixpath.basename(item.path or "")
            if posixpath.dirname(item.path or "") != directory:
                continue  # raw.glob's "*" also crosses "/"; kmod does not descend
            # kmod reads *.conf and *.alias, never hidden files
            if base.endswith((".conf", ".alias")) and not base.startswith(".") and base not in chosen:
                chosen[base] = item
    return [chosen[k] for k in sorted(chosen)]


def _commands(item: Item) -> list[tuple[int, list[str]]]:
    """Return (line number, words) of each command as kmod reads them: '\\' continues a line, '#' first is a comment."""
    out, pending, start = [], "", 0
    for number, line in enumerate(item.text.splitlines(), 1):
        start = start if pending else number
        if line.endswith("\\"):
            pending += line[:-1]
            continue
        line, pending = pending + line, ""
        if not line.startswith("#") and line.split():
            out.append((start, line.split()))
    return out


def parse(raw: RawFacts, ctx: Context) -> dict[str, Any]:
    """Return ``{module: {blacklisted, install_disabled, disabled, loaded}}`` and ``loaded_list``."""
    blacklisted: set[str] = set()
    install_disabled: set[str] = set()
    named: set[str] = set()
    install_seen: set[str] = set()
    origins: dict[str, dict[str, Any]] = {}
    for item in _config_files(raw):
        for number, words in _commands(item):
            if len(words) < 2 or words[0] not in _NAMED:
                continue
            name = _norm(words[1])
            named.add(name)
            where = {"file": item.path, "line": number}
            if words[0] == "blacklist":
                blacklisted.add(name)
                origins.setdefault(f"{name}.blacklisted", where)
            elif words[0] == "install" and name not in install_seen:
                # The first install line of a module is the one modprobe runs.
                install_seen.add(name)
                origins[f"{name}.install_disabled"] = where
                if len(words) > 2 and words[2] in _DISABLING:
                    install_disabled.add(name)
    proc = raw.file("/proc/modules")
    loaded: set[str] | None = None
    if proc is not None:
        loaded = {_norm(line.split()[0]) for line in lines(proc)}
    out: dict[str, Any] = {}
    for name in sorted(named | (loaded or set())):
        entry: dict[str, Any] = {
            "blacklisted": name in blacklisted,
            "install_disabled": name in install_disabled,
            "disabled": name in blacklisted or name in install_disabled,
        }
        if loaded is not None:
            entry["loaded"] = name in loaded
        out[name] = entry
    if loaded is not None:
        out["loaded_list"] = sorted(loaded)
    for (
        name
    ) in named:  # what decided "disabled": the disabling install line, a blacklist, the install that loads
        install, blacklist = origins.get(f"{name}.install_disabled"), origins.get(f"{name}.blacklisted")
        decided = install if name in install_disabled else blacklist or install
        if decided is not None:
            origins[f"{name}.disabled"] = decided
    return {**out, ORIGINS: origins} if origins else out


SUBJECT = Subject(
    name="modules",
    parse=parse,
    files=(*(d + "/*" for d in _DIRS), "/proc/modules"),
)
