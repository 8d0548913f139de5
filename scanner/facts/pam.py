"""Facts of subject 'pam': each /etc/pam.d service's expanded stack and what its auth and password stacks enforce."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from scanner.facts import Context, Subject
from scanner.rawfacts import RawFacts

PAM_DIR = "/etc/pam.d"
TYPES = ("auth", "account", "password", "session")
SECOND_FACTOR = (
    "pam_u2f",
    "pam_google_authenticator",
    "pam_oath",
    "pam_pkcs11",
    "pam_sss",
    "pam_yubico",
    "pam_duo",
)
PWQUALITY_MODULES = ("pam_pwquality", "pam_cracklib")
# Arguments that let a user without an enrolled token through: such a line is not a second factor.
_NO_TOKEN_OK = {"nullok", "nouserok"}
_MAX_DEPTH = 16
_SIMPLE = {
    "required": {"success": "ok", "new_authtok_reqd": "ok", "ignore": "ignore", "default": "bad"},
    "requisite": {"success": "ok", "new_authtok_reqd": "ok", "ignore": "ignore", "default": "die"},
    "sufficient": {"success": "done", "new_authtok_reqd": "done", "default": "ignore"},
    "optional": {"success": "ok", "new_authtok_reqd": "ok", "default": "ignore"},
}


@dataclass(frozen=True)
class Line:
    """One module line of a stack."""

    type: str
    control: str
    module: str  # file name without directory and ".so", e.g. "pam_unix"
    args: tuple[str, ...]

    def record(self) -> dict[str, Any]:
        return {"type": self.type, "control": self.control, "module": self.module, "args": list(self.args)}

    def actions(self) -> dict[str, str]:
        """Return the control as value → action ('default' for the rest), as libpam reads it."""
        if self.control in _SIMPLE:
            return _SIMPLE[self.control]
        pairs = dict(p.split("=", 1) for p in self.control[1:-1].split())
        return {"default": "bad", **pairs}


@dataclass(frozen=True)
class Substack:
    """A `substack` line: its lines, whose done/die and jumps end only the substack."""

    type: str
    entries: tuple[Line | Substack, ...]


Entry = Line | Substack


def _tokens(line: str) -> list[str]:
    """Split a PAM line into words, keeping a [...] group (control or argument) as one word."""
    words: list[str] = []
    for m in re.finditer(r"\[(?:\\.|[^\]])*\]|\S+", line):
        word = m.group(0)
        words.append(word.replace("\\]", "]") if word.startswith("[") else word)
    return words


def logical_lines(text: str) -> list[list[str]]:
    """Return the word lists of a PAM file: comments dropped, backslash continuations joined."""
    out: list[list[str]] = []
    pending = ""
    for raw_line in text.splitlines():
        line = pending + raw_line
        if line.endswith("\\"):
            pending = line[:-1] + " "
            continue
        pending = ""
        words = _tokens(line.split("#", 1)[0])
        if words:
            out.append(words)
    if pending.strip():
        out.append(_tokens(pending.split("#", 1)[0]))
    return [w for w in out if w]


def _control(word: str) -> str:
    """Return a control in one canonical spelling, checking its form."""
    if not word.startswith("["):
        return word.lower()
    pairs = word[1:-1].split()
    if not pairs or any("=" not in p for p in pairs):
        raise ValueError(f"bad PAM control {word!r}")
    return "[" + " ".join(p.lower() for p in pairs) + "]"


def expand(raw: RawFacts, name: str, want: str | None = None, depth: int = 0) -> tuple[Entry, ...]:
    """Return a service's entries with @include, include and substack expanded (only type `want` when given)."""
    if depth > _MAX_DEPTH:
        raise ValueError(f"PAM include nesting too deep at {name}")
    path = name if name.startswith("/") else f"{PAM_DIR}/{name}"
    item = raw.file(path)
    if item is None:
        raise ValueError(f"PAM file {path} was not collected")
    if not item.exists:
        raise ValueError(f"PAM file {path} is included but does not exist")
    entries: list[Entry] = []
    for words in logical_lines(item.text):
        if words[0].lower() == "@include":
            if len(words) != 2:
                raise ValueError(f"{path}: bad @include line {' '.join(words)!r}")
            entries.extend(expand(raw, words[1], want, depth + 1))
            continue
        kind = words[0].lower().removeprefix("-")
        if kind not in TYPES or len(words) < 3:
            raise ValueError(f"{path}: bad PAM line {' '.join(words)!r}")
        if want is not None and kind != want:
            continue
        control = _control(words[1])
        if control == "include":
            entries.extend(expand(raw, words[2], kind, depth + 1))
        elif control == "substack":
            entries.append(Substack(kind, expand(raw, words[2], kind, depth + 1)))
        elif control in _SIMPLE or control.startswith("["):
            module = words[2].rsplit("/", 1)[-1].removesuffix(".so")
            entries.append(Line(kind, control, module, tuple(words[3:])))
        else:
            raise ValueError(f"{path}: unknown PAM control {words[1]!r}")
    return tuple(entries)


def flatten(entries: tuple[Entry, ...], kind: str | None = None) -> list[Line]:
    """Return the module lines in execution order (of one type when given)."""
    out: list[Line] = []
    for entry in entries:
        if isinstance(entry, Substack):
            out.extend(flatten(entry.entries, kind))
        elif kind is None or entry.type == kind:
            out.append(entry)
    return out


def args_dict(args: tuple[str, ...] | list[str]) -> dict[str, Any]:
    """Return module arguments as a dict: `key=value` (ints where numeric), bare words as True."""
    out: dict[str, Any] = {}
    for arg in args:
        key, eq, value = arg.partition("=")
        out[key] = (int(value) if re.fullmatch(r"-?\d+", value) else value) if eq else True
    return out


def module_conf(text: str) -> list[tuple[str, str]]:
    """Return `name = value` pairs of a PAM module's config file, read as libpwquality and pam_faillock do."""
    pairs = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            m = re.match(r"([^\s=]+)\s*=?\s*(.*)", line)
            if m is None:
                raise ValueError(f"bad config line {line!r}")
            pairs.append((m.group(1), m.group(2)))
    return pairs


def _is_second_factor(line: Line) -> bool:
    if line.module == "pam_sss":  # only smart-card (certificate) authentication is a second factor
        return "require_cert_auth" in line.args
    return line.module in SECOND_FACTOR


def _enforcing(line: Line) -> bool:
    """Tell whether every failure of this line fails the stack (required/requisite-like)."""
    if _NO_TOKEN_OK & set(line.args):
        return False
    for value, action in line.actions().items():
        allowed = {"bad", "die", "ignore"} if value == "ignore" else {"bad", "die"}
        if value not in ("success", "new_authtok_reqd") and action not in allowed:
            return False
    return True


def _may_skip(line: Line, position: int, target: int) -> bool:
    """Tell whether a line before `target` can end the stack or jump over it."""
    for action in line.actions().values():
        if action == "done" or (action.isdigit() and position + int(action) >= target):
            return True
    return False


def _second_factor(entries: tuple[Entry, ...]) -> bool:
    """Tell whether an enforced second-factor line is reached whatever the lines before it return."""
    auth = [e for e in entries if e.type == "auth"]
    for index, entry in enumerate(auth):
        if isinstance(entry, Substack):
            found = _second_factor(entry.entries)
        else:
            found = _is_second_factor(entry) and _enforcing(entry)
        skipped = any(isinstance(p, Line) and _may_skip(p, i, index) for i, p in enumerate(auth[:index]))
        if found and not skipped:
            return True
    return False


def faillock_enabled(lines: list[Line]) -> bool:
    """Tell whether pam_faillock both checks (preauth) and counts (authfail) in these auth lines."""
    modes = {a for line in lines if line.module == "pam_faillock" for a in line.args}
    return {"preauth", "authfail"} <= modes


def service(raw: RawFacts, name: str) -> dict[str, Any]:
    """Return the facts of one PAM service."""
    entries = expand(raw, name)
    auth, password = flatten(entries, "auth"), flatten(entries, "password")
    quality = [line for line in password if line.module in PWQUALITY_MODULES]
    faillock = [line for line in auth if line.module == "pam_faillock"]
    faillock_args: dict[str, Any] = {}
    for line in faillock:
        for key, value in args_dict(line.args).items():
            if key not in ("preauth", "authfail", "authsucc"):
                faillock_args.setdefault(key, value)
    return {
        "stack": [line.record() for line in flatten(entries)],
        "second_factor": _second_factor(entries),
        "second_factor_modules": sorted({line.module for line in auth if _is_second_factor(line)}),
        "faillock": faillock_enabled(auth),
        "faillock_args": faillock_args,
        "pwquality": bool(quality),
        "pwquality_args": args_dict(quality[0].args) if quality else {},
    }


def parse(raw: RawFacts, ctx: Context) -> dict[str, Any]:
    """Return facts for every service file under /etc/pam.d."""
    paths = [it.path or "" for it in raw.glob(PAM_DIR + "/*")]
    names = [p.rsplit("/", 1)[1] for p in paths if p.rsplit("/", 1)[0] == PAM_DIR]
    return {name: service(raw, name) for name in names}


SUBJECT = Subject(name="pam", parse=parse, files=(PAM_DIR + "/*",))
