"""The key exchange kijun asks for first, against a real sshd, and a server that refuses it.

kijun reorders paramiko's key exchanges (scanner/collect/ssh.py ``kex_order``): ECDH on P-256
before curve25519, the same set offered. A real sshd must then agree on P-256, and one whose
``KexAlgorithms`` leaves P-256 out must still agree on curve25519 (nothing offered was dropped).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from scanner.collect.ssh import KEX_FIRST, kex_order

pytestmark = pytest.mark.lab

REPO = Path(__file__).resolve().parents[2]

# In a child process (it moves into a network namespace of its own): log in to the fleet's sshd,
# then restart it with only curve25519 and log in again; print the key exchange agreed each time.
CHILD = """
import logging, sys
sys.path.insert(0, sys.argv[1] + "/benchmarks")
import fleet_sshd
assert fleet_sshd.private_network()
fleet = fleet_sshd.start(1, 1)
import os
os.environ.update(fleet.client_env())
from scanner.collect import ssh, sshconfig
from scanner.inventory import load

agreed = []
class Kex(logging.Handler):
    def emit(self, record):
        text = record.getMessage()
        if text.startswith("Kex: "):
            agreed.append(text[5:])
logging.getLogger("paramiko.transport").addHandler(Kex())
logging.getLogger("paramiko.transport").setLevel(logging.DEBUG)
try:
    host = load(fleet.dir / "inventory.yaml").hosts[0]
    for config in ("", "KexAlgorithms curve25519-sha256@libssh.org\\n"):
        if config:
            fleet.sshd.terminate(); fleet.sshd.wait()
            path = fleet.dir / "sshd_config"
            path.write_text(path.read_text() + config)
            fleet_sshd._run_sshd(fleet)
        print(ssh.exec_once(sshconfig.route(host, None), "echo ok", b"", 30.0).out.decode().strip(), agreed[-1])
finally:
    fleet_sshd.stop(fleet)
"""


def test_kex_order_keeps_the_set_and_puts_the_hybrid_first() -> None:
    offered = ("mlkem768x25519-sha256", "curve25519-sha256@libssh.org", "ecdh-sha2-nistp256", "dh-x")
    assert kex_order(offered) == (
        "mlkem768x25519-sha256",
        "ecdh-sha2-nistp256",
        "curve25519-sha256@libssh.org",
        "dh-x",
    )
    older = ("curve25519-sha256@libssh.org", "ecdh-sha2-nistp384", "diffie-hellman-group14-sha256")
    assert kex_order(older) == older  # nothing it lacks is added
    assert sorted(kex_order(offered)) == sorted(offered)
    assert set(KEX_FIRST) <= set(offered)


def test_real_sshd_agrees_on_p256_and_without_it_on_curve25519() -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root (private network namespace, sshd)")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(REPO)], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split("\n")[:2] == ["ok ecdh-sha2-nistp256", "ok curve25519-sha256@libssh.org"]
