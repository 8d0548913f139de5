"""Facts of subject 'pam': each /etc/pam.d service's stacks, interpreted as Linux-PAM runs them.

The verdicts come from running the stack (scanner.facts.pam_run) over what a user may present:
"two factors required" holds iff no path on which one factor kind alone (or nothing) is presented
ends in success, for a user enrolled for a second factor and one who is not. Lockout and password
quality are read from the same runs.
"""

from __future__ import annotations

import pickle
from functools import lru_cache
from typing import Any

from scanner.facts import ORIGINS, Context, Subject, origin
from scanner.facts.pam_conf import PAM_DIR, TYPES, Handler, args_dict, module_conf, stack
from scanner.facts.pam_run import FACTORS, Scenario, explain, factor_of, one_factor_path, outcomes, runs
from scanner.rawfacts import RawFacts

__all__ = ["args_dict", "faillock_enabled", "module_conf", "parse", "pwquality_lines", "service"]
PWQUALITY_MODULES = ("pam_pwquality", "pam_cracklib")
_ALL = frozenset(name for _, name in FACTORS.values())
# Where Debian, Ubuntu and RHEL keep PAM modules: their names tell which modules libpam can load.
MODULE_DIRS = (
    "/usr/lib/*/security/*.so",
    "/lib/*/security/*.so",
    "/usr/lib64/security/*.so",
    "/lib/security/*.so",
)


def installed_modules(raw: RawFacts) -> frozenset[str] | None:
    """Return the names of the PAM modules on the host, None when their folders were not listed."""
    found = {
        (it.path or "").rsplit("/", 1)[-1].removesuffix(".so")
        for pattern in MODULE_DIRS
        for it in raw.glob(pattern, kind="stat")
    }
    return frozenset(found) if found else None


def faillock_enabled(auth: list[Handler], installed: frozenset[str] | None = None) -> bool:
    """Tell whether pam_faillock both refuses a locked user and counts every failed password, on every path."""
    return _faillock_enabled(tuple(auth), installed)


@lru_cache(maxsize=256)  # a pure function of the stack: services and hosts share their stacks
def _faillock_enabled(stack: tuple[Handler, ...], installed: frozenset[str] | None) -> bool:
    auth = list(stack)
    if not any(h.module == "pam_faillock" for h in auth):
        return False
    for enrolled in (True, False):
        for success, _ in runs(auth, Scenario(_ALL, enrolled, locked=True, installed=installed)):
            if success:
                return False  # a locked account still gets in on this path
        for _, path in runs(auth, Scenario(_ALL - {"password"}, enrolled, installed=installed)):
            failed = [i for i, s in enumerate(path) if _is_password(s.handler) and s.code != "success"]
            counted = [
                i for i, s in enumerate(path) if s.handler.module == "pam_faillock" and _mode(s) == "authfail"
            ]
            if failed and not any(c > failed[0] for c in counted):
                return False  # a wrong password on this path is never counted
    return True


def _is_password(h: Handler) -> bool:
    factor = factor_of(h)
    return factor is not None and factor[1] == "password"


def _mode(step: Any) -> str:
    return next((a for a in step.handler.args if a in ("preauth", "authfail", "authsucc")), "")


def pwquality_lines(
    password: list[Handler], installed: frozenset[str] | None = None
) -> tuple[list[Handler], bool]:
    """Return the quality-checking lines of a password stack and whether a weak password is always refused."""
    lines = [h for h in password if h.kind == "module" and h.module in PWQUALITY_MODULES]
    return lines, bool(lines) and _weak_refused(tuple(password), installed)


@lru_cache(maxsize=256)
def _weak_refused(password: tuple[Handler, ...], installed: frozenset[str] | None) -> bool:
    return not any(ok for ok, _ in runs(list(password), Scenario(_ALL, True, installed=installed), _weak))


def _weak(handler: Handler, scenario: Scenario) -> tuple[str, ...]:
    """Outcomes for a weak new password: quality modules and pam_deny refuse it, the rest as for auth."""
    if handler.kind == "module" and handler.module in (*PWQUALITY_MODULES, "pam_deny"):
        return ("authtok_err",)
    return outcomes(handler, scenario)


_JUDGED: dict[tuple[Any, ...], bytes] = {}
_JUDGED_MAX = 512


def service(
    raw: RawFacts, name: str, installed: frozenset[str] | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return the facts of one PAM service and the origins of its verdicts.

    The verdicts are a pure function of the service's stacks (and the installed modules), which
    many services and hosts share: they are computed once per distinct stack and process, and
    each caller gets its own copy.
    """
    installed = installed if installed is not None else installed_modules(raw)
    key = (tuple(tuple(stack(raw, name, t)) for t in TYPES), installed)
    kept = _JUDGED.get(key)
    if kept is None:
        kept = pickle.dumps(_judge(dict(zip(TYPES, (list(s) for s in key[0]), strict=True)), installed))
        if len(_JUDGED) >= _JUDGED_MAX:
            _JUDGED.clear()
        _JUDGED[key] = kept
    facts, origins = pickle.loads(kept)
    return facts, origins


def _judge(
    stacks: dict[str, list[Handler]], installed: frozenset[str] | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    auth, password = stacks["auth"], stacks["password"]
    origins: dict[str, Any] = {}
    found = one_factor_path(auth, installed=installed)
    if found is not None:
        path = found[1]
        decider = next(
            (s.handler for s in reversed(path) if s.code == "success"), path[-1].handler if path else None
        )
    else:
        decider = next((h for h in auth if (f := factor_of(h)) and f[0] != "knowledge"), None)
    if decider is not None and decider.line:
        origins["second_factor"] = origins["second_factor_path"] = origin(decider.file, decider.line)
    faillock_lines = [h for h in auth if h.kind == "module" and h.module == "pam_faillock"]
    faillock_args: dict[str, Any] = {}
    for line in faillock_lines:
        for key, value in args_dict(line.args).items():
            if key not in ("preauth", "authfail", "authsucc"):
                faillock_args.setdefault(key, value)
    quality, enforced = pwquality_lines(password, installed)
    if quality:
        origins["pwquality"] = origin(quality[0].file, quality[0].line)
    if faillock_lines:
        origins["faillock"] = origin(faillock_lines[0].file, faillock_lines[0].line)
    facts = {
        "stack": [_record(h) for t in TYPES for h in stacks[t] if h.kind != "substack"],
        "second_factor": found is None,
        "second_factor_path": "" if found is None else explain(*found),
        "second_factor_modules": sorted(
            {h.module for h in auth if (f := factor_of(h)) is not None and f[0] != "knowledge"}
        ),
        "faillock": faillock_enabled(auth, installed),
        "password_checked": any(_is_password(h) for h in auth if h.kind == "module"),
        "faillock_args": faillock_args,
        "pwquality": enforced,
        "pwquality_args": args_dict(quality[0].args) if quality else {},
    }
    return facts, origins


def _record(h: Handler) -> dict[str, Any]:
    """Return a stack line as a fact (a line libpam installs as always failing has module "")."""
    return {"type": h.type, "control": h.control, "module": h.module, "args": list(h.args)}


def parse(raw: RawFacts, ctx: Context) -> dict[str, Any]:
    """Return facts for every service file under /etc/pam.d."""
    paths = [it.path or "" for it in raw.glob(PAM_DIR + "/*")]
    names = [p.rsplit("/", 1)[1] for p in paths if p.rsplit("/", 1)[0] == PAM_DIR]
    out: dict[str, Any] = {}
    origins: dict[str, Any] = {}
    installed = installed_modules(raw)
    for name in names:
        item = raw.file(f"{PAM_DIR}/{name}")
        if item is None or not item.exists:
            continue
        out[name], where = service(raw, name, installed)
        origins |= {f"{name}.{key}": value for key, value in where.items()}
    if origins:
        out[ORIGINS] = origins
    return out


SUBJECT = Subject(name="pam", parse=parse, files=(PAM_DIR + "/*",), stats=MODULE_DIRS)
