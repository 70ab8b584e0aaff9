#!/usr/bin/env bash
# Unpack, never install, the Debian packages tests/debian-packages.txt lists as
# "unpack: NAME", into one directory the test harness runs them from.
#
#   bash tests/unpack-debs.sh            (as root; tests/run.sh calls it)
#
# Why: Exim and Postfix are both a "mail-transport-agent" in Debian and conflict; installing
# exim4-daemon-light would remove the Postfix the other tests run. Unpacked with dpkg-deb -x
# under $MAILREP_UNPACK_ROOT (default /opt/mailrep-tests/root), no maintainer script runs, no
# system daemon starts, nothing in /etc changes. The harness runs the binary there with its
# own config (tests/support/servers/exim.py). The libraries those binaries need are ordinary
# packages in tests/debian-packages.txt. Re-running is cheap: a stamp records what was
# unpacked, and a new candidate version unpacks afresh.
set -euo pipefail
cd "$(dirname "$0")/.."

root="${MAILREP_UNPACK_ROOT:-/opt/mailrep-tests/root}"
say() { printf '==> %s\n' "$*"; }
die() { printf 'tests/unpack-debs.sh: %s\n' "$*" >&2; exit 1; }

mapfile -t names < <(sed -n 's/^[[:space:]]*unpack:[[:space:]]*\([^#[:space:]]*\).*/\1/p' \
    tests/debian-packages.txt)
[ "${#names[@]}" -gt 0 ] || exit 0
command -v apt-get >/dev/null || die "apt-get not found: unpack ${names[*]} yourself"

candidates() {
    for name in "${names[@]}"; do
        printf '%s=%s\n' "$name" "$(apt-cache policy "$name" | awk '/Candidate:/ {print $2}')"
    done
}
want="$(candidates)"
if printf '%s\n' "$want" | grep -q '=\(\|(none)\)$'; then
    apt-get update -q
    want="$(candidates)"
fi
if [ -f "$root/.unpacked" ] && [ "$(cat "$root/.unpacked")" = "$want" ]; then
    exit 0
fi

say "unpacking ${names[*]} into $root"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"  # apt-get download drops to the _apt user where it can
(cd "$work" && apt-get download -q $(printf '%s\n' "$want" | tr '\n' ' ')) \
    || die "apt-get download failed for: ${names[*]}"
rm -rf "$root"
mkdir -p "$root"
for deb in "$work"/*.deb; do
    dpkg-deb -x "$deb" "$root"
done
printf '%s\n' "$want" > "$root/.unpacked"
