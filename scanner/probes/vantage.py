"""Vantages: where a probe runs (the scanner host, or an inventory host over its transport) and how.

A vantage runs one script (scanner/probes/script.py) through a runner: ``sh -s`` on the scanner
host, or ``sh -s`` over the host's SSH connection (the collector's transport, with its host key
checks and jump hosts). Tests may hand in their own runner (``ip netns exec`` into a lab namespace).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from scanner.errors import LoadError
from scanner.inventory import Host, Inventory
from scanner.probes.zonepolicy import VantageSpec, ZonePolicy

# A runner sends the probe script to a shell at the vantage and returns its stdout; it raises
# scanner.collect.CollectError when the vantage cannot be reached or the shell fails.
Runner = Callable[[str, float], bytes]


@dataclass(frozen=True)
class Vantage:
    """One point the probes run from: its zone, its own addresses, and the runner that reaches it."""

    name: str
    zone: str
    run: Runner
    addresses: tuple[str, ...] = ()
    host: Host | None = None  # the inventory host, None for the scanner host itself
    sweep: bool = True
    transport: str = "local"
    kind: str = "probes"  # "egress" for a collected host's own egress probe

    @property
    def pseudo(self) -> str:
        """The name its findings and evidence carry (evidence/probes-<name>.json, egress-<name>.json)."""
        return f"{self.kind}-{self.name}"


def local_runner(script: str, timeout: float) -> bytes:
    """Run the probe script on the scanner host."""
    from scanner.collect.local import run_script

    return run_script(script, timeout)


def ssh_runner(host: Host, jump: Host | None) -> Runner:
    """Return a runner that sends the script to ``sh -s`` over the host's SSH connection."""

    def run(script: str, timeout: float) -> bytes:
        # The collector's own SSH steps (known_hosts, jump hosts, keys only, whole-host deadline).
        from scanner.collect import ssh, sshconfig

        route = sshconfig.route(host, jump)
        command = ssh.shell_command(host, route[-1])
        return ssh.exec_once(route, command, script.encode("utf-8"), timeout, host.become, "probe").out

    return run


def from_host(host: Host, inventory: Inventory, sweep: bool = True) -> Vantage:
    """Return the vantage of an inventory host (ssh or local transport only)."""
    if host.transport == "ssh":
        jump = inventory.host(host.jump) if host.jump else None
        runner = ssh_runner(host, jump)
    elif host.transport == "local":
        runner = local_runner
    else:
        raise LoadError(
            str(inventory.path),
            host.line,
            f"vantage {host.name}: transport {host.transport} cannot run probes",
        )
    addresses = (host.address,) if host.address else ()
    return Vantage(host.name, host.zone, runner, addresses, host, sweep, host.transport)


def _from_spec(spec: VantageSpec, inventory: Inventory) -> Vantage:
    if spec.local:
        return Vantage(spec.name, spec.zone, local_runner, spec.addresses, None, spec.sweep, "local")
    host = inventory.host(spec.host)
    if host is None:
        raise LoadError(str(inventory.path), None, f"vantage {spec.name}: no host {spec.host!r}")
    return from_host(host, inventory, spec.sweep)


def option(options: Any, name: str, default: Any) -> Any:
    """Read a probe option of run.Options (probe, vantages, zone_policy) with its default."""
    # getattr: the CLI engineer adds these fields to run.Options; until then the defaults apply.
    return getattr(options, name, default)


def vantages_for(policy: ZonePolicy, inventory: Inventory, options: Any = None) -> list[Vantage]:
    """Return the vantages to probe from: ``--vantage`` names, else every declared one in scope.

    A name is a declared vantage, an inventory host (ssh or local transport), or ``local:<zone>``
    for the scanner host in a zone. ``--no-probe`` gives none. Under ``--limit`` only the declared
    vantages in the zones of the selected hosts run.
    """
    if not option(options, "probe", True):
        return []
    declared = {v.name: v for v in policy.vantages}
    names: tuple[str, ...] = tuple(option(options, "vantages", ()))
    if not names:
        chosen = list(policy.vantages)
        limit = tuple(option(options, "limit", ()))
        if limit:
            from scanner.selection import select

            zones = {h.zone for h in select(inventory, limit)}
            chosen = [v for v in chosen if _zone(v, inventory) in zones]
        return [_from_spec(v, inventory) for v in chosen]
    out = []
    for name in names:
        if name in declared:
            out.append(_from_spec(declared[name], inventory))
        elif name.startswith("local:") and name[6:] in inventory.zones:
            out.append(Vantage("scanner", name[6:], local_runner))
        elif (host := inventory.host(name)) is not None:
            out.append(from_host(host, inventory))
        else:
            raise LoadError(
                str(inventory.path),
                None,
                f"--vantage {name}: not a declared vantage, an inventory host or local:<zone>",
            )
    return out


def _zone(spec: VantageSpec, inventory: Inventory) -> str:
    if spec.local:
        return spec.zone
    host = inventory.host(spec.host)
    return host.zone if host else ""
