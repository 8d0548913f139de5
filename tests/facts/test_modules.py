"""Parser tests for subject 'modules' on recorded Debian 12 modprobe.d files."""

from __future__ import annotations

from pathlib import Path

from scanner.facts import Context
from scanner.facts.modules import SUBJECT, parse
from scanner.inventory import local_host
from scanner.rawfacts import build_raw

OUT = Path(__file__).parent / "outputs" / "modules"
INV = local_host()
CTX = Context(INV.hosts[0], INV)


def _debian_files() -> dict[str, str]:
    files = {f"/lib/modprobe.d/{p.name}": p.read_text() for p in (OUT / "lib-modprobe.d").iterdir()}
    files["/etc/modprobe.d/cis.conf"] = (OUT / "cis-hardening.conf").read_text()
    return files


def test_debian_defaults_and_hardening_file() -> None:
    raw = build_raw(files={**_debian_files(), "/proc/modules": (OUT / "proc-modules").read_text()})
    facts = parse(raw, CTX)
    assert facts["cramfs"] == {
        "blacklisted": True,
        "install_disabled": True,
        "disabled": True,
        "loaded": False,
    }
    # install-only disabling, name normalised from usb-storage, and still loaded right now
    assert facts["usb_storage"] == {
        "blacklisted": False,
        "install_disabled": True,
        "disabled": True,
        "loaded": True,
    }
    assert facts["firewire_core"]["blacklisted"] is True
    assert facts["firewire_core"]["install_disabled"] is False
    assert facts["squashfs"]["install_disabled"] is True
    # named only by "options" in the real systemd file: known, not disabled
    assert facts["bonding"] == {
        "blacklisted": False,
        "install_disabled": False,
        "disabled": False,
        "loaded": False,
    }
    assert facts["snd_pcsp"]["disabled"] is False
    assert facts["loaded_list"] == ["ext4", "nf_nat", "nf_tables", "nft_chain_nat", "uas", "usb_storage"]
    assert facts["uas"]["disabled"] is False


def test_etc_file_hides_same_named_lib_file_and_non_conf_is_ignored() -> None:
    raw = build_raw(
        files={
            "/lib/modprobe.d/usb.conf": "blacklist usb_storage\n",
            "/etc/modprobe.d/usb.conf": "# emptied by the admin\n",
            "/etc/modprobe.d/old.conf.dpkg-old": "blacklist usb_storage\n",
        }
    )
    facts = parse(raw, CTX)
    assert "usb_storage" not in facts


def test_install_with_a_real_command_is_not_disabled() -> None:
    raw = build_raw(
        files={"/etc/modprobe.d/a.conf": "install usb_storage /sbin/modprobe --ignore-install usb_storage\n"}
    )
    assert parse(raw, CTX)["usb_storage"]["install_disabled"] is False


def test_proc_modules_not_collected_omits_loaded() -> None:
    facts = parse(build_raw(files=_debian_files()), CTX)
    assert "loaded_list" not in facts
    assert "loaded" not in facts["cramfs"]


def test_subject_lists_what_it_reads() -> None:
    assert "/proc/modules" in SUBJECT.files and "/etc/modprobe.d/*" in SUBJECT.files


def test_origins_name_the_line_that_decided() -> None:
    raw = build_raw(
        files={
            "/usr/lib/modprobe.d/a.conf": "blacklist usb-storage\n",
            "/run/modprobe.d/b.conf": "# vendor\ninstall usb-storage /bin/false\n",
        }
    )
    origins = parse(raw, CTX)["_origins"]
    assert origins["usb_storage.disabled"] == {"file": "/run/modprobe.d/b.conf", "line": 2}
    assert origins["usb_storage.blacklisted"] == {"file": "/usr/lib/modprobe.d/a.conf", "line": 1}
