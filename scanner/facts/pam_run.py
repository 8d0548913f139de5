"""The auth stack run as libpam's _pam_dispatch_aux() runs it, over every outcome its modules may have.

A module's outcome depends on what the user presents (a password, a one-time code, a smart card,
a face...) and whether the user is enrolled for a second factor; a module kijun does not know may
return anything. ``runs()`` follows every combination of outcomes through the control actions and
yields each path with its result, so a verdict can quote the path that lets a single factor in.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from scanner.facts.pam_conf import MUST_FAIL_CODE, Handler

# Factor of each module kijun knows: knowledge, possession or inherence, and the factor's name.
FACTORS: dict[str, tuple[str, str]] = {
    **{m: ("knowledge", "password") for m in ("pam_unix", "pam_unix2", "pam_pwdb", "pam_ldap", "pam_krb5")},
    **{m: ("knowledge", "password") for m in ("pam_winbind", "pam_userdb", "pam_sss", "pam_radius_auth")},
    **{m: ("possession", "code") for m in ("pam_google_authenticator", "pam_oath", "pam_yubico", "pam_duo")},
    **{m: ("possession", "token") for m in ("pam_u2f", "pam_pkcs11", "pam_p11")},
    **{m: ("inherence", "biometric") for m in ("pam_fprintd", "pam_howdy", "pam_palmsecure")},
}
_NO_TOKEN_OK = ("nullok", "nouserok")
# Modules whose auth outcome does not depend on any factor.
_FIXED = {"pam_permit": ("success",), "pam_deny": ("auth_err",), "pam_env": ("ignore",)}


def factor_of(handler: Handler) -> tuple[str, str] | None:
    """Return (kind, factor) a module checks; pam_sss with require_cert_auth is a smart card."""
    if handler.module == "pam_sss" and "require_cert_auth" in handler.args:
        return ("possession", "token")
    return FACTORS.get(handler.module)


@dataclass(frozen=True)
class Scenario:
    """Who logs in and what they present."""

    presented: frozenset[str]  # factor names: "password", "code", "token", "biometric"
    enrolled: bool  # the user has a second factor set up (a TOTP secret, a token)
    user: str | None = None  # None: any user (conditions on the user may go either way)
    uid: int | None = None
    locked: bool | None = False  # pam_faillock's tally: None = may be locked
    installed: frozenset[str] | None = None  # module names present on the host (None: not known)

    def describe(self) -> str:
        what = " and ".join(sorted(self.presented)) or "nothing"
        return f"{what} ({'enrolled' if self.enrolled else 'unenrolled'} user)"


def outcomes(handler: Handler, scenario: Scenario) -> tuple[str, ...]:
    """Return the return values a module may give in a scenario (one unless it is unknown)."""
    if handler.kind == "fail":
        return (MUST_FAIL_CODE,)
    if scenario.installed is not None and handler.module not in scenario.installed:
        return ("module_unknown",)  # libpam cannot load it (a "-" only keeps that out of the log)
    if handler.module in _FIXED:
        return _FIXED[handler.module]
    factor = factor_of(handler)
    if handler.module == "pam_google_authenticator" and not all(_ga_option(a) for a in handler.args):
        return ("auth_err",)  # an unrecognized option fails the module for everyone
    if factor is not None:
        if factor[0] != "knowledge" and not scenario.enrolled:
            if handler.module == "pam_google_authenticator":  # no secret file
                return ("ignore",) if "nullok" in handler.args else ("auth_err",)
            return ("ignore", "success") if set(_NO_TOKEN_OK) & set(handler.args) else ("auth_err",)
        return ("success",) if factor[1] in scenario.presented else ("auth_err",)
    if handler.module == "pam_faillock":
        return _faillock(handler, scenario)
    if handler.module == "pam_succeed_if":
        known = _succeed_if(handler.args, scenario)
        if known is not None:
            return ("success",) if known else ("auth_err",)
    # Unknown (or absent) module: anything; one return value per distinct effect on the stack.
    effects: dict[tuple[str, bool], str] = {}
    for code, action in handler.actions:
        effects.setdefault((action, code == "success"), code)
    return tuple(effects.values())


_GA_WORDS = {"debug", "try_first_pass", "use_first_pass", "forward_pass", "noskewadj", "no_increment_hotp"}
_GA_WORDS |= {
    "nullok",
    "echo_verification_code",
    "echo-verification-code",
    "allow_readonly",
    "no_strict_owner",
}
_GA_KEYS = ("secret=", "authtok_prompt=", "user=", "allowed_perm=", "grace_period=")


def _ga_option(arg: str) -> bool:
    """Tell whether pam_google_authenticator knows an argument (it fails on any other)."""
    return arg in _GA_WORDS or arg.startswith(_GA_KEYS)


def _faillock(handler: Handler, scenario: Scenario) -> tuple[str, ...]:
    """Every mode returns auth_err for a locked user; else preauth and authsucc success, authfail ignore."""
    modes = [a for a in handler.args if a in ("preauth", "authfail", "authsucc")]
    unlocked = "ignore" if modes[-1:] == ["authfail"] else "success"
    if scenario.locked is None:
        return (unlocked, "auth_err")
    return ("auth_err",) if scenario.locked else (unlocked,)


_CMP = {"=": "eq", "!=": "ne", "<": "lt", "<=": "le", ">": "gt", ">=": "ge", "eq": "eq", "ne": "ne"}
_CMP |= {"lt": "lt", "le": "le", "gt": "gt", "ge": "ge"}


def _succeed_if(args: tuple[str, ...], scenario: Scenario) -> bool | None:
    """Evaluate pam_succeed_if's conditions on user and uid (None when they cannot be known)."""
    words = [a for a in args if a not in ("quiet", "quiet_fail", "quiet_success", "debug", "use_uid")]
    if not words or len(words) % 3:
        return None
    result = True
    for name, op, value in (words[i : i + 3] for i in range(0, len(words), 3)):
        if name == "user" and op in ("=", "!=", "eq", "ne") and scenario.user is not None:
            ok = (scenario.user == value) == (_CMP[op] == "eq")
        elif name == "uid" and op in _CMP and scenario.uid is not None and re.fullmatch(r"\d+", value):
            ok = _compare(scenario.uid, _CMP[op], int(value))
        else:
            return None
        result = result and ok
    return result


def _compare(a: int, op: str, b: int) -> bool:
    return {"eq": a == b, "ne": a != b, "lt": a < b, "le": a <= b, "gt": a > b, "ge": a >= b}[op]


@dataclass(frozen=True)
class Step:
    """One module run on a path: what it returned and what the control did with it."""

    handler: Handler
    code: str
    action: str

    def describe(self) -> str:
        verb = {"ok": "ok", "done": "done", "bad": "failed", "die": "failed, stop", "reset": "reset"}
        what = verb.get(self.action, "ignored" if self.action == "ignore" else f"jump {self.action}")
        return (
            f"{self.handler.module or self.handler.control or 'bad line'} {what} at line {self.handler.line}"
        )


Outcomes = Callable[[Handler, Scenario], tuple[str, ...]]


def runs(
    handlers: list[Handler], scenario: Scenario, outcome: Outcomes | None = None, limit: int = 20000
) -> Iterator[tuple[bool, list[Step]]]:
    """Yield (success, path) for every outcome of the modules reached, as _pam_dispatch_aux() walks them."""
    count = 0
    pending: list[_State] = [_State()]
    while pending:
        state = pending.pop()
        while state.i < len(handlers) and handlers[state.i].kind == "substack":
            state.enter(handlers[state.i].level)
            state.i += 1
        if state.i >= len(handlers):
            count += 1
            if count > limit:
                raise ValueError(f"PAM stack too ambiguous to interpret (over {limit} paths)")
            yield state.impression == 1 and state.ok, state.path
            continue
        h = handlers[state.i]
        for code in reversed((outcome or outcomes)(h, scenario)):
            pending.append(state.step(handlers, code))


@dataclass
class _State:
    """Where a walk of the stack is: libpam's impression, status, saved substack states and position."""

    i: int = 0
    impression: int = 0  # _PAM_UNDEF; 1 positive, -1 negative
    ok: bool = False  # status == PAM_SUCCESS (it starts as PAM_MUST_FAIL_CODE)
    prev: int = 0
    saved: tuple[tuple[int, bool], ...] = ((0, False),)
    path: list[Step] = field(default_factory=list)

    def enter(self, level: int) -> None:
        """Remember the state when a handler is deeper than the one before (entering a substack)."""
        if self.prev < level:
            self.saved = (
                *self.saved[:level],
                *[(0, False)] * max(0, level - len(self.saved)),
                (self.impression, self.ok),
            )
        self.prev = level

    def step(self, handlers: list[Handler], code: str) -> _State:
        """Return the state after the module at ``i`` returned ``code``."""
        h = handlers[self.i]
        new = _State(self.i, self.impression, self.ok, self.prev, self.saved, self.path)
        new.enter(h.level)
        action = h.action(code)
        new.path = [*self.path, Step(h, code, action)]
        level, n, decided = h.level, len(handlers), False
        if action == "reset":
            new.impression, new.ok = new.saved[level]
        elif action in ("ok", "done"):
            if new.impression == 0 or (new.impression == 1 and new.ok):
                new.impression, new.ok = 1, code == "success"
            decided = new.impression == 1 and action == "done"
        elif action in ("bad", "die"):
            if new.impression != -1:
                new.impression, new.ok = -1, False
            decided = action == "die"
        elif action != "ignore":
            jump = int(action)
            while new.i + 1 < n and handlers[new.i + 1].level >= level and jump > 0:
                new.i += 1
                while new.i + 1 < n and handlers[new.i + 1].level > level:
                    new.i += 1
                jump -= 1
            if jump:
                new.impression, new.ok = -1, False  # "bad jump in stack"
        if decided:
            while new.i + 1 < n and handlers[new.i + 1].level >= level:
                new.i += 1
        new.i += 1
        return new


def _kinds(factors: frozenset[str]) -> set[str]:
    return {kind for kind, name in FACTORS.values() if name in factors}


def single_kind_sets(handlers: list[Handler]) -> list[frozenset[str]]:
    """Return every set of factors of at most one kind among those the stack checks (the empty set first)."""
    names = sorted({f[1] for h in handlers if h.kind == "module" and (f := factor_of(h))})
    subsets = [frozenset(c) for r in range(len(names) + 1) for c in itertools.combinations(names, r)]
    return [s for s in subsets if len(_kinds(s)) <= 1]


def one_factor_path(
    handlers: list[Handler],
    user: str | None = None,
    uid: int | None = None,
    enrolled_cases: tuple[bool, ...] = (True, False),
    installed: frozenset[str] | None = None,
) -> tuple[Scenario, list[Step]] | None:
    """Return a scenario presenting one factor kind (or none) and its path to success, None if there is none."""
    for enrolled in enrolled_cases:
        for presented in single_kind_sets(handlers):
            scenario = Scenario(presented, enrolled, user, uid, installed=installed)
            for success, path in runs(handlers, scenario):
                if success:
                    return scenario, path
    return None


def explain(scenario: Scenario, path: list[Step]) -> str:
    """Say how a single factor gets in: 'a code alone succeeds: pam_unix ignored at line 1, ...'."""
    what = " and ".join(sorted(scenario.presented))
    head = f"{'a ' + what + ' alone' if what else 'nothing presented'} succeeds"
    who = "" if scenario.enrolled else " for a user without a second factor"
    return f"{head}{who}: " + ", ".join(s.describe() for s in path)
