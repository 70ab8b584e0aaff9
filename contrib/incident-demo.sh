#!/usr/bin/env bash
# Watch mailrep catch the incident, on this machine, in about 20 seconds.
#
#   sudo contrib/incident-demo.sh
#
# Brings up, on loopback only, rbldnsd serving psbl.surriel.com, Dovecot, and three Postfix
# instances: alice's submission server (127.0.0.10) -> the provider's relay (127.0.0.11,
# listed) -> the recipient's MX (127.0.0.12, rejects listed clients). alice's mail to bob
# bounces; check_dnsbl, check_relay_chain and check_bounce_rate run and show their real
# output; the relay is delisted; they run again; everything is torn down.
# Exit code 0 when every plugin said what it should (see contrib/INCIDENT.rst).
#
# Root is needed: the lab binds 127.0.0.x:53 for the blocklist and runs Postfix in a private
# mount namespace whose /etc/resolv.conf names it. The machine's own settings are untouched.
set -euo pipefail
cd "$(dirname "$0")/.."

die() { printf 'incident-demo: %s\n' "$*" >&2; exit 2; }

[ "$(id -u)" -eq 0 ] || die "run me as root: sudo $0"

# The servers the lab runs (a subset of tests/debian-packages.txt).
missing=()
for pkg in postfix dovecot-imapd rbldnsd openssl util-linux python3-venv; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" \
        || missing+=("$pkg")
done
[ "${#missing[@]}" -eq 0 ] \
    || die "missing Debian packages: ${missing[*]} (bash tests/run.sh installs them, or apt-get install them)"

# The repository's .venv with mailrep installed, made as tests/run.sh makes it.
if ! .venv/bin/python -c 'import mailrep, pytest' 2>/dev/null \
        || [ ! -x .venv/bin/check_dnsbl ] || [ ! -x .venv/bin/check_relay_chain ] \
        || [ ! -x .venv/bin/check_bounce_rate ]; then
    python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
        || die "mailrep needs Python >= 3.11; found $(python3 --version 2>&1)"
    if ! .venv/bin/python -c 'import sys' 2>/dev/null; then
        printf '==> creating .venv\n'
        rm -rf .venv
        python3 -m venv .venv
    fi
    printf '==> installing mailrep[test] into .venv\n'
    .venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test]'
fi

exec .venv/bin/python -m tests.e2e.demo
