"""Privilege equivalence for sudo: which granted commands are as good as ALL (a root shell).

A grant of a shell, an interpreter, an editor, a pager or any program that runs another command
hands out a root shell, and so does a wildcard or a directory in the command path. Arguments fixed
in sudoers narrow some of them (`/usr/bin/systemctl start x.service` pages nothing); they never
narrow editors and pagers, which escape to a shell from inside (GTFOBins, "Sudo" section).
Helper of scanner/facts/sudoers.py.
"""

from __future__ import annotations

import re

_SHELLS = {
    "sh",
    "bash",
    "dash",
    "zsh",
    "ksh",
    "ksh93",
    "mksh",
    "csh",
    "tcsh",
    "fish",
    "ash",
    "rbash",
    "busybox",
}
_INTERPRETERS = re.compile(
    r"(python|perl|ruby|lua|luajit|php|node|nodejs|tclsh|wish|irb|jrunscript|gawk|mawk|nawk|awk|pwsh|R|Rscript|"
    r"guile|sbcl|gdb|expect|rlwrap|socat)[\d.]*"
)
# Escape to a shell whatever their arguments: editors and pagers.
_INTERACTIVE = {
    "vi", "vim", "nvim", "view", "vimdiff", "rvim", "ex", "ed", "nano", "pico", "emacs", "joe",
    "mcedit", "ne", "less", "more", "most", "pg", "mc", "ftp", "sftp", "top", "htop", "aria2c",
}  # fmt: skip
# Run any command, write any file or change who is root when their arguments are free.
_RUNNERS = {
    "su", "sudo", "sudoedit", "doas", "env", "nice", "ionice", "nohup", "timeout", "stdbuf", "time",
    "xargs", "find", "script", "setsid", "chroot", "unshare", "nsenter", "systemd-run", "run-parts",
    "strace", "ltrace", "taskset", "watch", "flock", "docker", "podman", "ctr", "kubectl", "lxc",
    "tar", "zip", "unzip", "rsync", "scp", "ssh", "make", "git", "man", "journalctl", "systemctl",
    "dd", "tee", "cp", "mv", "install", "ln", "chmod", "chown", "mount", "apt", "apt-get", "dpkg",
    "pip", "pip3", "npm", "crontab", "visudo", "useradd", "usermod", "groupmod", "gpasswd", "passwd",
    "chpasswd", "openssl", "sed", "cpio", "wget", "curl", "service", "pkexec",
}  # fmt: skip


def _name(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[-1]


def why_all(command: str) -> str:
    """Return why a sudoers command grants as much as ALL ('' when it does not).

    >>> why_all("/bin/sh")
    'a shell (/bin/sh)'
    >>> why_all("/usr/bin/systemctl start restic-backup.service")
    ''
    """
    words = command.split()
    if words and re.match(r"sha(224|256|384|512):", words[0]):
        words = words[1:]  # a digest pins the binary, not what it can do
    if not words:
        return ""
    path, args = words[0], " ".join(words[1:])
    if path == "ALL":
        return "ALL"
    if path.startswith("^") or any(c in path for c in "*?["):
        return f"a wildcard in the command path ({path})"
    if path.endswith("/"):
        return f"every command in a directory ({path})"
    name = _name(path)
    free = not args or any(c in args for c in "*?[") or args.startswith("^")
    if name in _SHELLS:
        return f"a shell ({path})" if free or args == '""' else ""
    if _INTERPRETERS.fullmatch(name):
        return f"an interpreter ({path})" if free or args == '""' else ""
    if name in _INTERACTIVE:
        return f"an editor or pager that opens a shell ({path})"
    if name in _RUNNERS and free:
        why = "with any arguments" if not args else f"with wildcard arguments ({args})"
        return f"a command that runs other commands or writes any file, {why} ({path})"
    return ""
