"""Unit-test helpers: a minimal policy pack written to a temporary folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

CHECKS = """\
checks:
  - id: sshd-root-login-disabled
    title: {ja: SSHのrootログインが禁止されている, en: SSH root login is disabled}
    fact: sshd.permitrootlogin
    equals: "no"
  - id: login-defs-max-age-limited
    title: {ja: パスワード有効期間が設定されている, en: Password maximum age is limited}
    fact: login_defs.pass_max_days
    le: {param: max_age_days}
"""
CONTROLS = """\
area: access_control
area_title: {ja: アクセス制御, en: Access control}
controls:
  - id: ACC-04
    title: {ja: rootの直接ログインが禁止されている, en: Direct root login is disabled}
    severity: high
    checks: [sshd-root-login-disabled]
    remediation: {ja: 直す, en: Fix it}
  - id: ACC-07
    title: {ja: パスワード有効期間, en: Password maximum age}
    severity: medium
    params:
      max_age_days: {default: 90, source: NCH 第3条(1)ア}
    checks: [login-defs-max-age-limited]
    remediation: {ja: 直す, en: Fix it}
"""


def make(tmp: Path, checks: str = CHECKS, controls: str = CONTROLS) -> tuple[Path, Path]:
    (tmp / "checks").mkdir()
    (tmp / "policies" / "profiles").mkdir(parents=True)
    (tmp / "checks" / "sshd.yaml").write_text(checks, "utf-8")
    (tmp / "policies" / "access_control.yaml").write_text(controls, "utf-8")
    (tmp / "policies" / "profiles" / "base.yaml").write_text(
        "municipality: {name_ja: 試験区, name_en: Test}\n", "utf-8"
    )
    return tmp / "checks", tmp / "policies"


def one_host_error(tmp: Path, line6: str) -> Any:
    """Load a one-host YAML inventory whose sixth line is ``line6`` and return the LoadError it raises."""
    import pytest

    from scanner.errors import LoadError
    from scanner.inventories import load

    path = tmp / "inventory.yaml"
    path.write_text(
        f"zones: {{lgwan: {{}}}}\nhosts:\n  - name: web01\n    zone: lgwan\n    role: server\n{line6}\n"
    )
    with pytest.raises(LoadError) as info:
        load(path)
    return info.value
