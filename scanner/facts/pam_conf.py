"""PAM configuration read as Linux-PAM 1.5 (Debian 12) loads it: one list of handlers per type.

Nothing is a parse error that libpam itself accepts: a line without a module, with an unknown
control or a bad ``[...]`` action list, or an include of a missing file becomes a handler that
always fails (libpam's PAM_HT_MUST_FAIL or an all-``bad`` action table), as libpam installs it.
Only what cannot be known (a file that was not collected) raises.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property, lru_cache

from scanner.rawfacts import RawFacts

PAM_DIR = "/etc/pam.d"
TYPES = ("auth", "account", "password", "session")
# libpam's _pam_token_returns, in its order (a bracket's "value=" is matched by prefix in this order).
_RETURN_NAMES = """success open_err symbol_err service_err system_err buf_err perm_denied auth_err
cred_insufficient authinfo_unavail user_unknown maxtries new_authtok_reqd acct_expired session_err
cred_unavail cred_expired cred_err no_module_data conv_err authtok_err authtok_recover_err
authtok_lock_busy authtok_disable_aging try_again ignore abort authtok_expired module_unknown bad_item
conv_again incomplete"""
RETURNS = tuple(_RETURN_NAMES.split())
ACTIONS = ("ignore", "ok", "done", "bad", "die", "reset")
MUST_FAIL_CODE = "perm_denied"
MAX_LEVEL = 16  # PAM_SUBSTACK_MAX_LEVEL: include and substack nesting


@dataclass(frozen=True)
class Handler:
    """One entry of a dispatch list: a module, a substack marker, or a line that must fail."""

    type: str
    level: int  # substack depth (0 = the service's own stack)
    kind: str  # "module" | "substack" | "fail"
    control: str  # as written
    actions: tuple[tuple[str, str], ...]  # return value -> action ("ok", "done", "3", ...)
    module: str = ""  # file name without directory and ".so"
    args: tuple[str, ...] = ()
    file: str = ""
    line: int = 0

    def action(self, code: str) -> str:
        return self.table[code]

    @cached_property
    def table(self) -> dict[str, str]:
        """The actions as a dict, built once per handler (the interpreter asks on every step)."""
        return dict(self.actions)


def _table(default: str, **explicit: str) -> dict[str, str]:
    return {code: explicit.get(code, default) for code in RETURNS}


_SIMPLE = {
    "required": _table("bad", success="ok", new_authtok_reqd="ok", ignore="ignore"),
    "requisite": _table("die", success="ok", new_authtok_reqd="ok", ignore="ignore"),
    "optional": _table("ignore", success="ok", new_authtok_reqd="ok"),
    "sufficient": _table("ignore", success="done", new_authtok_reqd="done"),
}
ALL_BAD = _table("bad")


def parse_actions(text: str) -> dict[str, str]:
    """Parse a ``[value=action ...]`` list (without brackets) as _pam_parse_control() does."""
    return dict(_parse_actions(text))


@lru_cache(maxsize=256)
def _parse_actions(text: str) -> tuple[tuple[str, str], ...]:
    return tuple(_actions_of(text).items())


def _actions_of(text: str) -> dict[str, str]:
    table: dict[str, str] = {}
    rest = text
    while True:
        rest = rest.lstrip(" \t\n")
        if not rest:
            break
        name = next((n for n in (*RETURNS, "default") if rest.startswith(n)), None)
        if name is None or not rest[len(name) :]:
            return dict(ALL_BAD)
        rest = rest[len(name) :].lstrip(" \t\n")
        if not rest.startswith("="):
            return dict(ALL_BAD)
        rest = rest[1:].lstrip(" \t\n")
        digits = re.match(r"\d+", rest)
        action = digits.group(0) if digits else next((a for a in ACTIONS if rest.startswith(a)), None)
        if not action:
            return dict(ALL_BAD)
        rest = rest[len(action) :]
        if digits:
            action = str(int(action)) if int(action) else "ignore"  # a jump of 0 is ignore
        if name == "default":
            for code in RETURNS:
                table.setdefault(code, action)
        else:
            table[name] = action
    return {code: table.get(code, "bad") for code in RETURNS}


def assemble(text: str) -> list[tuple[int, str]]:
    """Return (first line number, logical line) as _pam_assemble_line() reads a file.

    '#' ends a line wherever it stands; a trailing backslash joins the next non-blank,
    non-comment line.
    """
    out: list[tuple[int, str]] = []
    parts: list[str] = []
    start = 0
    for number, line in enumerate(text.split("\n"), start=1):
        stripped = line.lstrip(" \n\t")
        if not stripped or stripped.startswith("#"):
            continue  # nothing in this line; a pending continuation goes on
        start = start or number
        body, hashed, _ = stripped.partition("#")
        if hashed:
            out.append((start, " ".join([*parts, body])))
            parts, start = [], 0
            continue
        body = body.rstrip(" \t\n")
        if body.endswith("\\"):
            parts.append(body[:-1])
            continue
        out.append((start, " ".join([*parts, body])))
        parts, start = [], 0
    if parts:
        out.append((start, " ".join(parts)))
    return out


def tokens(line: str) -> list[str]:
    """Split a logical line as _pam_StrTokenizer() does: "[...]" is one token up to an unescaped ']'."""
    words: list[str] = []
    i, n = 0, len(line)
    while i < n:
        if line[i] in " \t\n":
            i += 1
            continue
        if line[i] == "[":
            j = i + 1
            while j < n and not (line[j] == "]" and line[j - 1] != "\\"):
                j += 1
            words.append("[" + line[i + 1 : j].replace("\\]", "]") + "]")
            i = j + 1
            continue
        j = i
        while j < n and line[j] not in " \t\n":
            j += 1
        words.append(line[i:j])
        i = j
    return words


def _path(name: str) -> str:
    return name if name.startswith("/") else f"{PAM_DIR}/{name}"


def load(raw: RawFacts, name: str, want: str, level: int = 0, depth: int = 0) -> list[Handler] | None:
    """Return the ``want`` handlers of one file (None when the file does not exist)."""
    path = _path(name)
    item = raw.file(path)
    if item is None:
        raise ValueError(f"PAM file {path} was not collected")
    if not item.exists:
        return None
    out: list[Handler] = []
    for number, words in logical(item.text):
        out.extend(_line(raw, words, want, level, depth, path, number))
    return out


@lru_cache(maxsize=512)
def logical(text: str) -> tuple[tuple[int, tuple[str, ...]], ...]:
    """Return (line number, words) of a file's logical lines: a file is read once per type and include."""
    return tuple((number, tuple(tokens(line))) for number, line in assemble(text))


def _fail(kind: str, control: str, actions: dict[str, str], where: tuple[str, int], level: int) -> Handler:
    return Handler(kind, level, "fail", control, tuple(actions.items()), file=where[0], line=where[1])


def _line(
    raw: RawFacts, words: tuple[str, ...], want: str, level: int, depth: int, path: str, number: int
) -> list[Handler]:
    """Return the handlers one logical line installs for type ``want``."""
    where = (path, number)
    if words[0] == "@include":  # Debian: every type of the named file
        if len(words) < 2:
            return [_fail(want, "@include", ALL_BAD, where, level)]
        return _include(raw, words[1], want, level, depth, where, "@include")
    typ = words[0].removeprefix("-").lower()
    known = typ in TYPES
    typ = typ if known else "auth"  # an illegal type installs as auth ("most sensitive") and fails
    if typ != want:
        return []
    control = words[1] if len(words) > 1 else ""
    lowered = control.lower()
    if lowered in ("include", "substack"):
        if len(words) < 3:
            return [_fail(typ, control, ALL_BAD, where, level)]
        if lowered == "include":
            return _include(raw, words[2], want, level, depth, where, control)
        marker = Handler(typ, level, "substack", control, (), file=path, line=number)
        return [marker, *_include(raw, words[2], want, level + 1, depth, where, control)]
    if lowered in _SIMPLE:
        actions = dict(_SIMPLE[lowered])
    elif control:
        actions = parse_actions(control[1:-1] if control.startswith("[") else control)
    else:
        return [_fail(typ, control, ALL_BAD, where, level)]
    if len(words) < 3 or not known:
        return [_fail(typ, control, actions, where, level)]
    module = words[2].rsplit("/", 1)[-1].removesuffix(".so")
    return [Handler(typ, level, "module", control, tuple(actions.items()), module, tuple(words[3:]), *where)]


def _include(
    raw: RawFacts, name: str, want: str, level: int, depth: int, where: tuple[str, int], control: str
) -> list[Handler]:
    """Return an included file's handlers, or one failing line when libpam cannot load it."""
    if depth + 1 >= MAX_LEVEL or level >= MAX_LEVEL:
        return [_fail(want, control, ALL_BAD, where, level)]
    loaded = load(raw, name, want, level, depth + 1)
    return loaded if loaded is not None else [_fail(want, control, ALL_BAD, where, level)]


def stack(raw: RawFacts, service: str, want: str) -> list[Handler]:
    """Return the dispatch list of one type for a service, falling back to ``other`` when empty."""
    handlers = load(raw, service, want)
    if handlers is None:
        raise ValueError(f"PAM file {_path(service)} does not exist")
    if not handlers and not service.startswith("/") and service != "other" and raw.file(_path("other")):
        handlers = load(raw, "other", want) or []
    return handlers


def args_dict(args: tuple[str, ...] | list[str]) -> dict[str, object]:
    """Return module arguments as a dict: `key=value` (ints where numeric), bare words as True."""
    out: dict[str, object] = {}
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
