"""Turn a network device's raw facts into its rule model: the config item, the vendor, the parser.

The configuration is the file item ``/running-config`` (the export of ``show full-configuration``,
``show running-config`` or RTX ``show config``) of a ``files`` or ``snapshot`` host, or the probe
item ``probe:netdev-show`` when it was read over SSH (scanner/netdev/ssh.py).
"""

from __future__ import annotations

from collections.abc import Callable

from scanner.inventory import Host
from scanner.netdev import asa, fortios, ios, rtx
from scanner.netdev.model import Device
from scanner.rawfacts import RawFacts

CONFIG_PATH = "/running-config"
SHOW_ITEM = "probe:netdev-show"
PARSERS: dict[str, Callable[[str, str, str], Device]] = {
    "fortios": fortios.parse,
    "cisco-ios": ios.parse,
    "cisco-asa": asa.parse,
    "yamaha-rtx": rtx.parse,
}


class ConfigError(ValueError):
    """The device's configuration is missing, truncated or cannot be read: not assessed."""


def vendor(host: Host) -> str:
    return str(host.vars.get("vendor", ""))


def config_text(raw: RawFacts) -> tuple[str, str]:
    """Return the configuration text and where it came from, or raise ConfigError."""
    item = raw.items.get(f"file:{CONFIG_PATH}") or raw.items.get(SHOW_ITEM)
    if item is None or not item.exists:
        raise ConfigError(f"no configuration collected ({CONFIG_PATH} or {SHOW_ITEM})")
    if item.truncated:
        raise ConfigError(f"{item.id}: configuration truncated; a partial rule set proves nothing")
    if item.kind == "probe" and item.rc not in (0, None):
        raise ConfigError(f"{item.id}: {item.cmd} exited {item.rc}")
    where = item.path or item.cmd or item.id
    return item.text, str(where)


def parse(raw: RawFacts, host: Host) -> Device:
    """Return the rule model of a device's collected configuration (ConfigError or ValueError if not)."""
    kind = vendor(host)
    if kind not in PARSERS:
        raise ConfigError(f"vars.vendor {kind!r} is not one of {', '.join(PARSERS)}")
    text, where = config_text(raw)
    return PARSERS[kind](text, host.name, f"{host.name}:{where}")
