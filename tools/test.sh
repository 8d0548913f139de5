#!/usr/bin/env bash
# Install what the tests need (Debian packages and Python packages) and run lint, types and tests.
# Run as root on Debian 12 (the lab tests create network namespaces and run real sshd/nmap).
set -euo pipefail
cd "$(dirname "$0")/.."

SYSTEM_PACKAGES=(
  openssh-server openssh-client nmap nftables iproute2 iptables procps kmod sudo
  libpam-pwquality libpam-google-authenticator auditd rsyslog chrony logrotate restic busybox
  openssh-sftp-server pamtester
  systemd passwd util-linux
  libreoffice-calc-nogui fonts-ipafont-gothic poppler-utils netcat-openbsd
  chromium chromium-driver
)
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${SYSTEM_PACKAGES[@]}" >/dev/null
fi

python3 -m pip install -q --disable-pip-version-check -e '.[test,bench]'

echo "== ruff"
ruff check scanner tests tools benchmarks
ruff format --check scanner tests tools benchmarks
echo "== mypy (strict on scanner/)"
mypy
echo "== pytest"
python3 -m pytest -q -p no:cacheprovider "$@"
