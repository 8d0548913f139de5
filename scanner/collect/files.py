"""The files transport: a directory taken as a host's root (a config repository, an exported /etc).

Paths resolve as inside a chroot: an absolute symlink points into the root, and a relative one that
climbs out of it is not followed (the item is then not collected). No probe runs, so probe facts
stay missing, which is honest.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import stat
from datetime import datetime
from pathlib import Path

from scanner import __version__
from scanner.collect import secrets
from scanner.collect.batch import Meta
from scanner.collect.follow import MAX_FILES, patterns
from scanner.collect.framing import file_item
from scanner.collect.plan import CollectError, Plan
from scanner.collect.script import DENIED_CONTENT, MAX_BYTES, is_glob
from scanner.inventory import Host
from scanner.rawfacts import Item, RawFacts

_MAX_LINKS = 40
SHADOWS = ("/etc/shadow", "/etc/shadow-", "/etc/gshadow", "/etc/gshadow-")


class _Escape(Exception):
    """A path leaves the root, or loops."""


def resolve(root: Path, path: str) -> Path:
    """Return the real location of a host path under root, following symlinks as a chroot would.

    Raises _Escape when a relative link climbs above the root or links loop.
    """
    todo = [p for p in path.split("/") if p]
    done: list[str] = []
    links = 0
    while todo:
        part = todo.pop(0)
        if part == ".":
            continue
        if part == "..":
            if not done:
                raise _Escape(path)
            done.pop()
            continue
        here = root.joinpath(*done, part)
        if not here.is_symlink():
            done.append(part)
            continue
        links += 1
        if links > _MAX_LINKS:
            raise _Escape(path)
        target = os.readlink(here)
        if target.startswith("/"):
            done = []
        todo = [p for p in target.split("/") if p] + todo
    return root.joinpath(*done)


def expand(root: Path, pattern: str) -> list[str]:
    """Return the host paths matching a glob under root, sorted, as the shell expands it (no dot files)."""
    paths = [""]
    for part in [p for p in pattern.split("/") if p]:
        if not is_glob(part):
            paths = [f"{p}/{part}" for p in paths]
            continue
        found: list[str] = []
        for parent in paths:
            try:
                names = sorted(os.listdir(resolve(root, parent or "/")))
            except (_Escape, OSError):
                continue
            found.extend(
                f"{parent}/{n}"
                for n in names
                if fnmatch.fnmatchcase(n, part) and (part.startswith(".") or not n.startswith("."))
            )
        paths = found
    return sorted(paths)


def denied(*paths: str) -> bool:
    """Tell whether any of the paths (a path and its link target) must never have its content read."""
    return any(fnmatch.fnmatchcase(p, d) for p in paths for d in DENIED_CONTENT)


def _meta(st: os.stat_result) -> Meta:
    return Meta(f"{stat.S_IMODE(st.st_mode):04o}", st.st_uid, st.st_gid, int(st.st_mtime), st.st_size)


def _read(real: Path, limit: int) -> tuple[bytes, str]:
    """Read up to limit + 1 bytes and hash the whole file, never blocking and only from a regular file."""
    fd = os.open(real, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise IsADirectoryError(f"{real}: not a regular file")
        data = handle.read(limit + 1)
        digest = hashlib.sha256(data)
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return data, digest.hexdigest()


def _refusal(root: Path, path: str, real: Path, st: os.stat_result) -> str:
    """Return why a file's content is refused by name, link target or inode ("" when it is not)."""
    if denied(path):
        return "name"
    parent, _, name = path.rpartition("/")
    try:
        link = (resolve(root, parent or "/") / name).is_symlink()
    except (_Escape, OSError):
        link = True
    if link and denied("/" + str(real.relative_to(root))):
        return "link-target"
    for shadow in SHADOWS:
        try:
            other = resolve(root, shadow).stat()
        except (_Escape, OSError):
            continue
        if (other.st_dev, other.st_ino) == (st.st_dev, st.st_ino):
            return "shadow"
    return ""


def item(root: Path, kind: str, path: str, from_glob: bool, limit: int = MAX_BYTES) -> Item | None:
    """Collect one file or stat item under root, as the collector script would; None when not collected."""
    try:
        real = resolve(root, path)
    except (_Escape, OSError):
        return None
    try:
        st = real.stat()
    except (FileNotFoundError, NotADirectoryError):
        return None if from_glob else file_item(kind, path, None)
    except OSError:
        return None  # it may exist: unknown, so not collected
    regular = stat.S_ISREG(st.st_mode)
    if from_glob and not regular:
        return None
    meta = _meta(st)
    if kind == "stat":
        return file_item(kind, path, meta)
    why = _refusal(root, path, real, st)
    if why:
        return file_item(kind, path, meta, error=f"refused-{why}")
    if not regular:
        return file_item(kind, path, meta, error="not-regular")
    try:
        data, digest = _read(real, limit)
    except IsADirectoryError:
        return file_item(kind, path, meta, error="not-regular")
    except OSError:
        return file_item(kind, path, meta, error="unreadable")
    reason = secrets.refused(data)
    if reason:
        return file_item(kind, path, meta, error=f"refused-{reason}")
    data, lines = secrets.redact(data)
    truncated = st.st_size > limit
    return file_item(kind, path, meta, data, limit=limit, truncated=truncated, sha256=digest, redacted=lines)


def _follow(root: Path, dialect: str, start: str, items: dict[str, Item], limit: int) -> None:
    """Collect what a config includes, and what those include, as the script's kj_follow does."""
    queue, seen = [start], set[str]()
    while queue and len(seen) < MAX_FILES:
        path = queue.pop(0)
        if path in seen:
            continue
        seen.add(path)
        found = items.get(f"file:{path}")
        if found is None or found.kind != "file" or not found.exists:
            continue
        for pattern in patterns(found.text, dialect):
            glob = is_glob(pattern)
            for match in expand(root, pattern) if glob else [pattern]:
                new = item(root, "file", match, glob, limit)
                if new is not None:
                    items.setdefault(new.id, new)
                    queue.append(match)


def gather(root: Path, plan: Plan, host_name: str, limit: int = MAX_BYTES) -> RawFacts:
    """Return the raw facts of a plan read under root (no probes)."""
    if not root.is_dir():
        raise CollectError("error", f"{root}: not a directory")
    items: dict[str, Item] = {}
    for kind, globs in (("file", plan.files), ("stat", plan.stats)):
        for pattern in globs:
            glob = is_glob(pattern)
            for path in expand(root, pattern) if glob else [pattern]:
                found = item(root, kind, path, glob, limit)
                if found is not None:
                    items.setdefault(found.id, found)
    for dialect, start in plan.follow:
        _follow(root, dialect, start, items, limit)
    now = datetime.now().astimezone().isoformat(timespec="seconds")
    collector = {"name": "kijun-files", "version": __version__, "root": str(root)}
    if plan.follow:
        collector["follow"] = " ".join(sorted({d for d, _ in plan.follow}))
    return RawFacts(host=host_name, collected_at=now, collector=collector, items=items)


def collect(host: Host, plan: Plan, timeout: float) -> RawFacts:
    """Collect raw facts from the host's ``root`` directory (the timeout does not apply to local reads)."""
    if not host.root:
        raise CollectError("error", f"host {host.name}: transport files needs 'root'")
    return gather(Path(host.root), plan, host.name)
