#!/usr/bin/env bash
# Run the whole mailrep test suite on a fresh Debian/Ubuntu machine: the one command to run.
#
#   bash tests/run.sh            (as root, or as a user with sudo)
#
# 1. installs the Debian packages in tests/debian-packages.txt that are missing (the tests
#    run the real rbldnsd, Dovecot, Postfix and Unbound), without letting their maintainer
#    scripts start system daemons, and unpacks the ones marked "unpack:" (Exim, which
#    conflicts with Postfix) into /opt/mailrep-tests/root (tests/unpack-debs.sh);
# 2. creates .venv in the repository and installs mailrep editable with its test extras;
# 3. runs ruff (lint, layering rule, format) and mypy, then pytest over tests/ (skips listed
#    with -ra).
# Any failure, and "no tests collected", exits non-zero.
#
# Root is needed because the harness binds 127.0.0.x:53 for the blocklist, runs Dovecot and
# Postfix, and makes a private mount namespace for Postfix's resolv.conf. Nothing on the
# machine is reconfigured: the servers use their own config, addresses and free ports.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '==> %s\n' "$*"; }
die() { printf 'tests/run.sh: %s\n' "$*" >&2; exit 1; }

if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || die "run as root (or install sudo): the harness needs root"
    say "re-running as root with sudo"
    exec sudo CI="${CI:-}" bash "$0" "$@"
fi

# --- 1. Debian packages ----------------------------------------------------------------
packages=()
while IFS= read -r line; do
    line="${line%%#*}"
    line="$(printf '%s' "$line" | tr -d '[:space:]')"
    case "$line" in unpack:*) continue ;; esac  # unpacked by tests/unpack-debs.sh
    [ -n "$line" ] && packages+=("$line")
done < tests/debian-packages.txt

missing=()
for pkg in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$pkg")
    fi
done

if [ "${#missing[@]}" -gt 0 ]; then
    command -v apt-get >/dev/null || die "apt-get not found: install ${missing[*]} yourself"
    say "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
    echo "postfix postfix/mailname string localhost" | debconf-set-selections
    # Keep postinst scripts from starting dovecot/unbound/rbldnsd/postfix as system services
    # (policy-rc.d exit 101 = "not allowed"); only if no policy is in place already.
    policy=/usr/sbin/policy-rc.d
    own_policy=0
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' > "$policy"
        chmod 755 "$policy"
        own_policy=1
    fi
    trap 'if [ "$own_policy" = 1 ]; then rm -f "$policy"; fi' EXIT
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${missing[@]}"
    if [ "$own_policy" = 1 ]; then rm -f "$policy"; own_policy=0; fi
fi

# Packages that conflict with the installed ones (Exim vs Postfix) are unpacked instead.
bash tests/unpack-debs.sh

# --- 2. Python environment -------------------------------------------------------------
python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
    || die "mailrep needs Python >= 3.11; found $(python3 --version 2>&1)"
if ! .venv/bin/python -c 'import sys' 2>/dev/null; then
    say "creating .venv"
    rm -rf .venv
    python3 -m venv .venv
fi
say "installing mailrep[test] into .venv"
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test]'

# --- 3. lint and tests -----------------------------------------------------------------
say "ruff check"
.venv/bin/ruff check .
say "ruff format --check"
.venv/bin/ruff format --check .
say "mypy"
.venv/bin/mypy

say "pytest"
status=0
.venv/bin/python -m pytest -p no:cacheprovider -ra tests "$@" || status=$?
if [ "$status" -eq 5 ]; then
    die "pytest collected no tests: that is a failure"
fi
exit "$status"
