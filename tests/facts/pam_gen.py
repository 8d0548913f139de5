"""Random sshd-like PAM stacks for the differential test against real PAM (tests/facts/pam_truth.py).

Each stack is a dict file name -> text under /etc/pam.d: the service ``kjgen`` and the files it
includes (``common-auth`` in one of several variants, ``kjsub1``, ``kjsub2``). Lines mix every
control (keywords and random ``[value=action]`` lists with jumps), include / substack / @include,
``-`` lines, nullok, modules that do not exist, decoy lines of other types and malformed lines.
"""

from __future__ import annotations

import random

USERS = {"kjenrolled": 2921, "kjbare": 2922}
VALUES = ["success", "auth_err", "ignore", "session_err", "module_unknown", "perm_denied", "new_authtok_reqd"]
ACTIONS = ["ok", "done", "bad", "die", "ignore", "reset", "1", "2", "3"]
COMMON_AUTH = [
    # Debian 12
    "auth [success=1 default=ignore] pam_unix.so nullok nodelay\nauth requisite pam_deny.so\n"
    "auth required pam_permit.so\n",
    # with faillock (pam_faillock(8))
    "auth required pam_faillock.so preauth nodelay\nauth [success=2 default=ignore] pam_unix.so nodelay\n"
    "auth [default=die] pam_faillock.so authfail nodelay\nauth requisite pam_deny.so\nauth required pam_permit.so\n",
    # a second password line before everything
    "auth sufficient pam_unix.so nodelay\nauth required pam_deny.so\n",
    # an off-by-one jump onto pam_deny
    "auth [success=2 default=ignore] pam_unix.so nodelay\nauth requisite pam_deny.so\n"
    "auth required pam_permit.so\n",
    "",  # empty
]


def _control(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.45:
        return rng.choice(["required", "requisite", "sufficient", "optional"])
    if roll < 0.48:
        return rng.choice(["requird", "Required", "[success=ok bogus]", "[success=okay]", "success=done"])
    pairs = [f"{v}={rng.choice(ACTIONS)}" for v in rng.sample(VALUES, rng.randint(1, 3))]
    if rng.random() < 0.7:
        pairs.insert(rng.randint(0, len(pairs)), f"default={rng.choice(ACTIONS)}")
    return "[" + " ".join(pairs) + "]"


def _module(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.25:
        return "pam_unix.so nodelay" + rng.choice(["", " nullok", " try_first_pass"])
    if roll < 0.5:
        return "pam_google_authenticator.so" + rng.choice(["", " nullok", ""])
    if roll < 0.6:
        return "pam_permit.so"
    if roll < 0.68:
        return "pam_deny.so"
    if roll < 0.76:
        user = rng.choice(list(USERS))
        return rng.choice(
            [
                f"pam_succeed_if.so user = {user}",
                "pam_succeed_if.so uid >= 2922 quiet",
                f"pam_succeed_if.so user != {user}",
            ]
        )
    if roll < 0.84:
        return "pam_faillock.so nodelay " + rng.choice(["preauth", "authfail", "authsucc"])
    if roll < 0.92:
        return "pam_env.so"
    return rng.choice(["pam_kijun_absent.so", "/lib/security/pam_nothere.so"])


def _line(rng: random.Random, includes: list[str]) -> str:
    roll = rng.random()
    if roll < 0.05:
        return rng.choice(
            [
                "account required pam_permit.so",
                "session optional pam_env.so",
                "password requisite pam_deny.so",
            ]
        )
    if roll < 0.08:  # malformed lines, as admins write them
        return rng.choice(
            [
                "auth requisite # pam_permit.so",
                "auth required",
                "auht required pam_permit.so",
                "auth [success=1 default=ignore] pam_unix.so nodelay # two words",
            ]
        )
    if roll < 0.16 and includes:
        name = rng.choice(includes)
        return rng.choice([f"auth include {name}", f"auth substack {name}", f"@include {name}"])
    dash = "-" if rng.random() < 0.08 else ""
    return f"{dash}auth {_control(rng)} {_module(rng)}"


def _file(rng: random.Random, lines: int, includes: list[str]) -> str:
    out = [_line(rng, includes) for _ in range(lines)]
    if rng.random() < 0.1 and len(out) > 1:  # a continuation line
        out[0] = out[0] + " \\"
    return "\n".join(out) + "\n"


def stack(rng: random.Random) -> dict[str, str]:
    """Return one generated tree: kjgen and what it may include."""
    files = {"common-auth": rng.choice(COMMON_AUTH)}
    files["kjsub2"] = _file(rng, rng.randint(1, 3), [])
    files["kjsub1"] = _file(rng, rng.randint(1, 3), ["kjsub2", "common-auth"])
    includes = ["common-auth", "kjsub1", "kjsub2"] + (["kjmissing"] if rng.random() < 0.1 else [])
    body = _file(rng, rng.randint(1, 6), includes)
    if rng.random() < 0.3:
        body = "@include common-auth\n" + body
    files["kjgen"] = body
    return files


def stacks(seed: int, count: int) -> list[dict[str, str]]:
    rng = random.Random(seed)
    return [stack(rng) for _ in range(count)]
