"""Static tests of kijun-collect.ps1 (PowerShell cannot run here): it agrees with the parser and the raw-facts format."""

from __future__ import annotations

import json
import re
import tomllib
from importlib import resources
from pathlib import Path

from scanner.facts import windows_registry as wr
from scanner.facts.windows import PROBES

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = resources.files("scanner").joinpath("collect/kijun-collect.ps1").read_text(encoding="utf-8")
SNAPSHOT = json.loads(
    (Path(__file__).parent / "outputs" / "windows" / "snapshot-mn-term-w01.json").read_text()
)


def code(script: str) -> str:
    """Return the script without comments and string contents (strings become '')."""
    out: list[str] = []
    i = 0
    while i < len(script):
        two = script[i : i + 2]
        ch = script[i]
        if two == "<#":
            i = script.index("#>", i) + 2
        elif ch == "#":
            i = script.find("\n", i) if "\n" in script[i:] else len(script)
        elif ch in "'\"":
            j = i + 1
            while True:
                if script[j] == "`" and ch == '"':
                    j += 2
                    continue
                if script[j] == ch:
                    if script[j + 1 : j + 2] == ch:  # '' or "" inside the string
                        j += 2
                        continue
                    break
                j += 1
            out.append("''")
            i = j + 1
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def literal(text: str) -> str:
    """Return the value of a single-quoted PowerShell string (without its quotes)."""
    return text.replace("''", "'")


def test_script_is_ascii() -> None:
    # Windows PowerShell 5.1 reads a script without BOM in the ANSI code page (cp932 in Japan).
    assert SCRIPT.isascii()


def test_brackets_balance_outside_strings_and_comments() -> None:
    body = code(SCRIPT)
    for open_, close in ("{}", "()", "[]"):
        depth = 0
        for ch in body:
            depth += (ch == open_) - (ch == close)
            assert depth >= 0, f"unbalanced {close}"
        assert depth == 0, f"unbalanced {open_}{close}"


def test_strict_mode_and_stop_on_errors() -> None:
    body = code(SCRIPT)
    assert "Set-StrictMode -Version 2.0" in body
    assert "$ErrorActionPreference = ''" in body  # 'Stop' at the top (string contents blanked)
    assert "$ErrorActionPreference = 'Stop'" in SCRIPT


def test_output_is_utf8_without_bom() -> None:
    body = code(SCRIPT)
    assert "New-Object System.Text.UTF8Encoding($false)" in body
    # Out-File and Set-Content -Encoding UTF8 write a BOM in Windows PowerShell 5.1.
    assert "Out-File" not in body and "Set-Content" not in body


def test_every_probe_the_parser_reads_is_collected() -> None:
    names = re.findall(r"^Add-Probe '([a-z0-9-]+)'", SCRIPT, flags=re.MULTILINE)
    assert sorted(names) == sorted(PROBES)
    assert len(names) == len(set(names))


def test_commands_recorded_in_the_snapshot_are_the_scripts() -> None:
    recorded = {k.removeprefix("probe:"): v["cmd"] for k, v in SNAPSHOT["items"].items()}
    for name, cmd in re.findall(r"^Add-Probe '([a-z0-9-]+)' '((?:[^']|'')*)'", SCRIPT, flags=re.MULTILINE):
        assert recorded[name] == literal(cmd), name
    assert SNAPSHOT["collector"]["name"] == "kijun-windows"
    assert "name = 'kijun-windows'" in SCRIPT


def test_registry_keys_and_values_match_the_parser() -> None:
    keys = dict(re.findall(r"^\s+'(HKLM\\[^']+)'\s+= @\(([^)]*)\)", SCRIPT, flags=re.MULTILINE))
    assert sorted(keys) == sorted(wr.KEYS)
    assert f"$DesktopPolicy = '{wr.DESKTOP}'" in SCRIPT
    read = {"Start", "DenyRemovableDevices", "DenyDeviceClasses", "DenyDeviceClassesRetroactive", "Deny_All", "Deny_Read",
            "Deny_Write", "InactivityTimeoutSecs", "scforceoption", "ExcludedCredentialProviders", "Enabled",
            "ScreenSaveActive", "ScreenSaverIsSecure", "ScreenSaveTimeOut"}  # fmt: skip
    listed = set(
        re.findall(
            r"'([A-Za-z_]+)'", " ".join(keys.values()) + SCRIPT[SCRIPT.index("$DesktopValues") :][:200]
        )
    )
    assert read <= listed


def test_collected_at_has_an_offset_and_failures_are_recorded() -> None:
    assert "yyyy-MM-dd'T'HH:mm:sszzz" in SCRIPT
    body = code(SCRIPT)
    assert body.count("catch") >= 2 and "$rc = 127" in body and "$rc = 1" in body


def test_the_package_ships_the_script() -> None:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "collect/*.ps1" in data["tool"]["setuptools"]["package-data"]["scanner"]


def test_secret_lines_lose_their_value_and_policy_lines_stay() -> None:
    # The same pattern, applied as PowerShell's -match does (case-insensitive).
    pattern = re.search(r"\$line -match '([^']+)'", SCRIPT)
    assert pattern is not None
    secret = re.compile(pattern.group(1), re.IGNORECASE)
    policy = (
        (Path(__file__).parent / "outputs" / "windows" / "secedit-ward-hardened.inf").read_text().splitlines()
    )
    assert [
        line for line in policy if secret.match(line)
    ] == []  # MinimumPasswordLength, ClearTextPassword ... stay
    leaked = r"MACHINE\Software\Microsoft\Windows NT\CurrentVersion\Winlogon\DefaultPassword=1," '"Kaku2024!"'
    found = secret.match(leaked)
    assert found is not None and found.group(1).endswith(r"Winlogon\DefaultPassword")
    assert secret.match("L$SECRET_KEY = abc") is not None
