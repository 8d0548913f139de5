"""What the daemons read beyond fixed paths: sshd ``Include``, chrony ``include``/``confdir``/``sourcedir``, every modprobe.d.

The collector (on the host, in sh) and the files transport (here) read a config file, find the
files it includes and collect them as ordinary ``file:`` items under their real paths, then read
those in turn. A glob that matches nothing gives no item; a literal path that does not exist gives
an absent item. ``RawFacts.collector["follow"]`` names the dialects followed, so a parser can tell
"included nothing" from "not collected by this collector".
"""

from __future__ import annotations

import re
from collections.abc import Iterable

SSHD_DIR = "/etc/ssh"
# The files that start a walk, by dialect.
STARTS = {"sshd": ("/etc/ssh/sshd_config",), "chrony": ("/etc/chrony/chrony.conf", "/etc/chrony.conf")}
# modprobe(8) reads all of these (an earlier one's file hides a same-named file in a later one).
MODPROBE_DIRS = (
    "/etc/modprobe.d",
    "/run/modprobe.d",
    "/usr/local/lib/modprobe.d",
    "/usr/lib/modprobe.d",
    "/lib/modprobe.d",
)
# Directives that name more files: keyword (lowercase) -> (suffix added to each argument, whether the
# argument is a directory). sshd resolves a relative Include against /etc/ssh; chrony needs absolute paths.
DIRECTIVES = {
    "sshd": {"include": ""},
    "chrony": {"include": "", "confdir": "/*.conf", "sourcedir": "/*.sources"},
}
MAX_FILES = 256  # a walk reads at most this many files (sshd itself stops at 16 levels)


def widen(files: Iterable[str]) -> tuple[set[str], tuple[tuple[str, str], ...]]:
    """Return the file globs with every modprobe directory added, and the walks to follow.

    >>> widen({"/etc/modprobe.d/*"})[0] >= {"/run/modprobe.d/*", "/lib/modprobe.d/*"}
    True
    """
    out = set(files)
    if any(f"{d}/*" in out for d in MODPROBE_DIRS):
        out.update(f"{d}/*" for d in MODPROBE_DIRS)
    follow = tuple((dialect, start) for dialect, starts in STARTS.items() for start in starts if start in out)
    return out, follow


def _strip(word: str) -> str:
    if len(word) >= 2 and word[0] == word[-1] and word[0] in "\"'":
        return word[1:-1]
    return word


def patterns(text: str, dialect: str) -> list[str]:
    """Return the absolute path patterns that one config file's directives name, in order.

    >>> patterns("Include extra/*.conf /abs.conf # c\\n", "sshd")
    ['/etc/ssh/extra/*.conf', '/abs.conf']
    >>> patterns("confdir /etc/chrony/conf.d /x/\\n", "chrony")
    ['/etc/chrony/conf.d/*.conf', '/x/*.conf']
    """
    found: list[str] = []
    for line in text.split("\n"):
        line = line.lstrip(" \t")
        keyword = line
        for i, char in enumerate(line):
            if char in " \t=":
                keyword = line[:i]
                break
        suffix = DIRECTIVES[dialect].get(keyword.lower())
        if suffix is None or not keyword:
            continue
        rest = line[len(keyword) :].lstrip(" \t")
        rest = rest.removeprefix("=")
        for word in re.split("[ \t]+", rest):
            if not word:
                continue
            if word.startswith("#"):
                break
            arg = _strip(word)
            if not arg.startswith("/"):
                if dialect != "sshd" or not arg or arg.startswith("~"):
                    continue
                arg = f"{SSHD_DIR}/{arg}"
            found.append(arg.rstrip("/") + suffix if suffix else arg)
    return found
