"""rsyslog parser vs rsyslogd: `rsyslogd -N1 -f FILE` (with its debug dump) on generated configurations.

Reference: rsyslogd's own config validation run. It reads the main file and what `$IncludeConfig`
and `include(file=...)` pull in, and with `-dn` it logs "Module builtin:omfwd processes this
action" for every forwarding action it built (legacy `@`/`@@` selectors and `action(type="omfwd")`)
and dumps each RainerScript omfwd action's parameters as it resolved them (target, port,
protocol, streamdriver, streamdrivermode, streamdriverauthmode, streamdriverpermittedpeers, with
its defaults filled in), and the global default stream driver (`global(DefaultNetstreamDriver=)`,
`$DefaultNetstreamDriver`), the last of which applies to actions that name none. The truth per
configuration: the number of forwards, and for each
RainerScript forward its target, port, protocol, whether it is TLS (tcp + a TLS driver + mode 1)
and whether that TLS authenticates the peer (x509/name, or certvalid/fingerprint with permitted
peers: kijun's rule, applied to rsyslog's values).

Not compared here: the TLS settings of legacy `@@host` forwards (rsyslogd does not dump them; the
legacy `$ActionSend...` directives are covered by tests/facts/test_rsyslog.py).
"""

from __future__ import annotations

import random
import re
import subprocess
from pathlib import Path

from scanner.facts import Context, rsyslog
from scanner.inventory import local_host
from scanner.rawfacts import build_raw
from tests.reference.ns import agreement, need

INV = local_host()
CTX = Context(INV.hosts[0], INV)
SEED, TREES = 20261207, 120
AUTH = ("anon", "x509/name", "x509/certvalid", "x509/fingerprint")
TLS_DRIVERS = {"gtls", "ossl"}


def action(rng: random.Random) -> str:
    params = ['type="omfwd"', f'target="log{rng.randint(1, 9)}.example.lg.jp"']
    if rng.random() < 0.7:
        params.append(f'port="{rng.choice([514, 6514, 10514])}"')
    protocol = rng.choice(["tcp", "tcp", "udp", ""])
    if protocol:
        params.append(f'{rng.choice(["protocol", "Protocol"])}="{protocol}"')
    if rng.random() < 0.7:
        params.append(
            f'{rng.choice(["StreamDriver", "streamdriver"])}="{rng.choice(["gtls", "ossl", "ptcp"])}"'
        )
    if rng.random() < 0.7:
        params.append(f'StreamDriverMode="{rng.choice(["0", "1", "1"])}"')
    if rng.random() < 0.7:
        params.append(f'{rng.choice(["StreamDriverAuthMode", "streamDriverAuthMode"])}="{rng.choice(AUTH)}"')
    if rng.random() < 0.4:
        peers = rng.choice(['"log1.example.lg.jp"', '["log1.example.lg.jp", "log2.example.lg.jp"]'])
        params.append(f"StreamDriverPermittedPeers={peers}")
    rng.shuffle(params)
    sep = rng.choice([" ", "\n  "])
    return f"{rng.choice(['*.*', 'auth,authpriv.*', ''])} action({sep.join(params)})".strip()


def legacy(rng: random.Random) -> str:
    return rng.choice(
        [
            f"*.* @old{rng.randint(1, 9)}.example.lg.jp",
            f"*.* @@old{rng.randint(1, 9)}.example.lg.jp:6514",
            f"auth.* @@(o)old{rng.randint(1, 9)}.example.lg.jp",
            "$ActionSendStreamDriverMode 1",
            "$ActionSendStreamDriverAuthMode x509/name",
            "*.* /var/log/all.log",
            "# *.* @@commented.example.lg.jp",
        ]
    )


def body(rng: random.Random) -> list[str]:
    return [action(rng) if rng.random() < 0.6 else legacy(rng) for _ in range(rng.randint(0, 4))]


def generate(rng: random.Random, root: Path) -> dict[str, str]:
    """Write a configuration under root; return {path: content} (paths as rsyslogd sees them)."""
    files: dict[str, str] = {}
    for name in rng.sample(["10-a.conf", "50-b.conf", "c.conf.disabled"], rng.randint(0, 3)):
        files[str(root / "d" / name)] = "\n".join(body(rng)) + "\n"
    main = ['module(load="imuxsock")']
    if rng.random() < 0.5:
        main.append(rng.choice(['global(DefaultNetstreamDriver="gtls")', "$DefaultNetstreamDriver gtls"]))
    main += body(rng)
    includes = [
        f"$IncludeConfig {root}/d/*.conf",
        f'include(file="{root}/d/*.conf")',
        f"$IncludeConfig {root}/d/",
    ]
    if rng.random() < 0.8:
        main.insert(rng.randint(1, len(main)), rng.choice(includes))
    files[str(root / "rsyslog.conf")] = "\n".join(main) + "\n"
    for path, text in files.items():
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(text)
    return files


def truth(root: Path) -> tuple[int, list[tuple[str, int, str, bool, bool]]] | None:
    """Return the forwards rsyslogd builds; None when it cannot read an $IncludeConfig."""
    run = subprocess.run(
        ["rsyslogd", "-N1", "-dn", "-f", str(root / "rsyslog.conf")],
        capture_output=True,
        text=True,
        check=False,
    )
    log = run.stdout + run.stderr
    if "error accessing config file or directory" in log:
        return None
    count = log.count("Module builtin:omfwd processes this action")
    defaults = re.findall(r"defaultnetstreamdriver:\s+'(\w+)'|cfsysline: \$DefaultNetstreamDriver (\w+)", log)
    default = next((a or b for a, b in reversed(defaults)), "ptcp")
    forwards = []
    for block in log.split("action param blk in omfwd:")[1:]:
        values = dict(
            re.findall(r"rainerscript\.c: ([\w.]+):\s+'?([^'\n]*)'?", block.split("processes this action")[0])
        )
        values = {k: v for k, v in values.items() if v != "(unset)"}
        protocol = values.get("protocol", "udp")
        driver = values.get("streamdriver", default).lower()
        tls = protocol == "tcp" and driver in TLS_DRIVERS and values.get("streamdrivermode") == "1"
        mode = values.get("streamdriverauthmode", "anon")
        peers = values.get("streamdriverpermittedpeers", "") != ""
        named = mode == "x509/name" or (mode in ("x509/certvalid", "x509/fingerprint") and peers)
        port = int(values.get("port", "514"))
        forwards.append((values.get("target", ""), port, protocol, tls, tls and named))
    return count, forwards


def parsed(files: dict[str, str], root: Path) -> tuple[int, list[tuple[str, int, str, bool, bool]]] | None:
    """Return the forwards the parser reads; None when it raises (the subject is then an error)."""
    main = files.pop(str(root / "rsyslog.conf"))
    try:
        facts = rsyslog.parse(build_raw(files={"/etc/rsyslog.conf": main, **files}), CTX)
    except ValueError:
        return None
    kept = [f for f in facts["forwards"] if f["protocol"] != "relp"]
    rainer = [f for f in kept if f["target"].startswith("log")]  # legacy targets are old<n>
    return len(kept), [(f["target"], f["port"], f["protocol"], f["tls"], f["authenticated"]) for f in rainer]


def test_rsyslog_forwards_agree_with_rsyslogd(tmp_path: Path) -> None:
    need("rsyslogd")
    rng = random.Random(SEED)
    results, forwards = [], 0
    for number in range(TREES):
        root = tmp_path / str(number)
        files = generate(rng, root)
        want = truth(root)
        got = parsed(dict(files), root)
        forwards += want[0] if want else 0
        results.append((f"config {number}: rsyslogd {want}, kijun {got}: {files}", want == got))
    assert forwards > TREES  # the generator reaches forwards, not only empty configurations
    agreement("rsyslog vs rsyslogd -N1", results)
