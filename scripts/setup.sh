#!/usr/bin/env bash
# Installs the system packages regify-verify needs, once. Safe to run again:
# it only installs what is missing. On a machine where it cannot install
# (not root, not Debian/Ubuntu) it names what to install and stops.
set -euo pipefail

# command -> Debian package
declare -A want=(
  [debootstrap]=debootstrap
  [haproxy]=haproxy
  [nginx]=nginx
  [wrk]=wrk
  [chromium]=chromium
  # mariadb-server: the process backend (two local mariadbd), which the
  # harness uses when no Docker engine answers; installed either way.
  [mariadbd]=mariadb-server
  [xmllint]=libxml2-utils
  [ip]=iproute2
  [taskset]=util-linux
  # php-cli: the PHP test application (scenarios/deploy/testdata/phpapp),
  # served by php's built-in server on two nodes behind HAProxy and nginx.
  [php]=php-cli
)

missing=()
for cmd in "${!want[@]}"; do
  if ! command -v "$cmd" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$cmd" ]; then
    missing+=("${want[$cmd]}")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "regify-verify needs these packages: ${missing[*]}" >&2
  echo "Install them with your package manager (Debian/Ubuntu: sudo apt-get install ${missing[*]}) and run again." >&2
  exit 2
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# Optional packages the distribution may not carry (Ubuntu has no chromium
# deb, only a snap): left out with a note; the tests that need them skip.
optional=(chromium)
install=()
for pkg in "${missing[@]}"; do
  if [[ " ${optional[*]} " == *" $pkg "* ]] && ! apt-cache show --no-all-versions "$pkg" >/dev/null 2>&1; then
    echo "setup: $pkg is not available from the apt sources; skipping it (the tests that need it skip)" >&2
    continue
  fi
  install+=("$pkg")
done
missing=("${install[@]}")
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "setup: installing ${missing[*]}" >&2
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Debian starts these daemons on install; the harness starts its own copies.
for svc in nginx haproxy mariadb; do
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$svc" 2>/dev/null; then
    systemctl stop "$svc" || true
    systemctl disable "$svc" >/dev/null 2>&1 || true
  fi
done
