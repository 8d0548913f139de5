"""Following includes on the host as the daemons do: sshd (checked against `sshd -T -ddd`), chrony, modprobe."""

from __future__ import annotations

import random
import shutil
import subprocess
from pathlib import Path

import pytest

from scanner.collect import Plan, plan_for
from scanner.collect.files import gather
from scanner.collect.follow import MODPROBE_DIRS, patterns, widen
from scanner.rawfacts import RawFacts
from tests.collect.conftest import SHELLS, run_plan

SSHD = shutil.which("sshd") or "/usr/sbin/sshd"


def _present(raw: RawFacts, prefix: str = "") -> set[str]:
    return {(i.path or "").removeprefix(prefix) for i in raw.items.values() if i.kind == "file" and i.exists}


def _sshd_tree(base: Path, rng: random.Random) -> Path:
    """Write a random tree of sshd config files that include one another without loops."""
    dirs = [base / f"d{k}" for k in range(3)]
    for folder in dirs:
        folder.mkdir(parents=True)
    files = [base / "sshd_config"] + [rng.choice(dirs) / f"f{i}.conf" for i in range(1, 7)]
    for i, path in enumerate(files):
        lines = ["PermitRootLogin no"]
        for _ in range(rng.randint(0, 3)):
            later = files[rng.randint(i + 1, len(files) - 1)] if i + 1 < len(files) else None
            options = [
                f"{rng.choice(dirs)}/*.nomatch",
                f"{base}/absent{i}.conf",
            ]
            if later is not None:
                options += [str(later), f'"{later}"', f"{later.parent}/f{later.stem[1:]}*.conf"]
            arg = rng.choice(options)
            keyword = rng.choice(["Include ", "include\t", "Include=", "INCLUDE = "])
            tail = rng.choice(["", " # comment", f" {rng.choice(dirs)}/none*"])
            lines.append(f"{keyword}{arg}{tail}")
        if rng.random() < 0.3:
            lines = [*lines[:1], "Match User nobody", *lines[1:]]
        path.write_text("\n".join(lines) + "\n")
    if rng.random() < 0.3:
        (dirs[0] / ".hidden.conf").write_text("PermitRootLogin yes\n")
    return files[0]


def _sshd_reads(config: Path) -> set[str]:
    """Return the files sshd itself loads for a config (its debug log names each one)."""
    proc = subprocess.run(
        [SSHD, "-T", "-ddd", "-f", str(config), "-h", "/etc/ssh/ssh_host_ed25519_key"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    marker = "load_server_config: filename "
    return {line.split(marker, 1)[1].strip() for line in proc.stderr.splitlines() if marker in line}


@pytest.mark.skipif(not Path(SSHD).exists(), reason="needs OpenSSH's sshd")
def test_sshd_includes_agree_with_sshd(tmp_path: Path) -> None:
    rng = random.Random(20261207)
    agree = 0
    for n in range(25):
        config = _sshd_tree(tmp_path / f"t{n}", rng)
        truth = _sshd_reads(config)
        _, raw = run_plan(Plan(files=(str(config),), follow=(("sshd", str(config)),)))
        assert _present(raw) == truth, config.read_text()
        agree += 1
    print(f"sshd Include: {agree}/25 trees, the collector reads exactly the files sshd -T loads")


@pytest.mark.parametrize("shell", sorted(SHELLS))
def test_files_transport_and_script_follow_the_same(tmp_path: Path, shell: str) -> None:
    root = tmp_path / "root"
    ssh = root / "etc/ssh"
    (ssh / "extra").mkdir(parents=True)
    (ssh / "sshd_config.d").mkdir()
    # Relative (to /etc/ssh) and absolute Includes, a glob matching nothing, a literal that is absent.
    (ssh / "sshd_config").write_text(
        "Include sshd_config.d/*.conf\nInclude /etc/ssh/extra/*.conf extra/none*.conf missing.conf\n"
    )
    (ssh / "sshd_config.d/10-a.conf").write_text("Match Address 10.0.0.0/8\n  Include extra/deep.inc\n")
    (ssh / "extra/20-b.conf").write_text("PermitRootLogin yes\n")
    (ssh / "extra/deep.inc").write_text("PasswordAuthentication yes\n")
    plan = plan_for(["sshd"])
    assert ("sshd", "/etc/ssh/sshd_config") in plan.follow
    raw = gather(root, plan, "h")
    assert raw.collector["follow"] == "sshd"
    expected = {
        "/etc/ssh/sshd_config",
        "/etc/ssh/sshd_config.d/10-a.conf",
        "/etc/ssh/extra/20-b.conf",
        "/etc/ssh/extra/deep.inc",
    }
    assert _present(raw) == expected
    absent = raw.file("/etc/ssh/missing.conf")
    assert absent is not None and not absent.exists
    # The script over the same tree (absolute paths, since relative ones resolve against the real /etc/ssh).
    prefix = str(root)
    for conf in ssh.rglob("*"):
        if conf.is_file():
            text = conf.read_text().replace("Include /etc/ssh/", f"Include {ssh}/")
            conf.write_text(text.replace("Include sshd_config.d", f"Include {ssh}/sshd_config.d"))
    (ssh / "sshd_config.d/10-a.conf").write_text(
        f"Match Address 10.0.0.0/8\n  Include {ssh}/extra/deep.inc\n"
    )
    (ssh / "sshd_config").write_text(
        f"Include {ssh}/sshd_config.d/*.conf\nInclude {ssh}/extra/*.conf {ssh}/extra/none*.conf {ssh}/missing.conf\n"
    )
    start = f"{ssh}/sshd_config"
    _, by_script = run_plan(Plan(files=(start,), follow=(("sshd", start),)), SHELLS[shell])
    assert _present(by_script, prefix) == expected
    assert by_script.collector["follow"] == "sshd"
    missing = by_script.file(f"{ssh}/missing.conf")
    assert missing is not None and not missing.exists


@pytest.mark.skipif(not shutil.which("chronyd"), reason="needs chronyd")
def test_chrony_confdir_sourcedir_include_anywhere(tmp_path: Path) -> None:
    base = tmp_path / "chrony"
    for sub in ("conf.d", "other", "src", "inc"):
        (base / sub).mkdir(parents=True)
    conf = base / "chrony.conf"
    conf.write_text(f"confdir {base}/conf.d {base}/other/\nsourcedir {base}/src\ninclude {base}/inc/*.conf\n")
    (base / "conf.d/10.conf").write_text("server a.example iburst\n")
    (base / "other/20.conf").write_text(f"pool b.example\ninclude {base}/inc/nested.inc\n")
    (base / "other/skip.txt").write_text("server not-read.example\n")
    (base / "src/x.sources").write_text("server c.example\n")
    (base / "inc/d.conf").write_text("server d.example\n")
    (base / "inc/nested.inc").write_text("server e.example\n")
    _, raw = run_plan(Plan(files=(str(conf),), follow=(("chrony", str(conf)),)))
    got = _present(raw, str(base))
    assert got == {
        "/chrony.conf",
        "/conf.d/10.conf",
        "/other/20.conf",
        "/src/x.sources",
        "/inc/d.conf",
        "/inc/nested.inc",
    }
    # chronyd's own reading (-p prints the configuration with confdir and include expanded).
    printed = subprocess.run(
        ["chronyd", "-p", "-f", str(conf)], capture_output=True, text=True, timeout=60, check=True
    ).stdout
    collected = "".join(i.text for i in raw.items.values() if i.kind == "file")
    for line in printed.splitlines():
        if line.split()[0] in ("server", "pool"):
            assert line.split()[1] in collected, line
    assert "not-read.example" not in collected


def test_modprobe_reads_every_directory() -> None:
    plan = plan_for(["modules"])
    for folder in MODPROBE_DIRS:
        assert f"{folder}/*" in plan.files
    assert widen({"/etc/ssh/sshd_config"})[1] == (("sshd", "/etc/ssh/sshd_config"),)


def test_include_lines() -> None:
    text = 'Include a.conf "/b" ~/x\n#Include /no\n  include=/y/*.conf # /z\nIncludeX /no\nMatch all\n Include /m\n'
    assert patterns(text, "sshd") == ["/etc/ssh/a.conf", "/b", "/y/*.conf", "/m"]
    assert patterns("sourcedir /s /t/\ninclude rel.conf\nconfdir\n", "chrony") == [
        "/s/*.sources",
        "/t/*.sources",
    ]
