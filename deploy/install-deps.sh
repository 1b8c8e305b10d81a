#!/usr/bin/env bash
# Installs the Debian 12 packages Tearline needs to build, test, fuzz and benchmark.
# Skips what is already present; runs `apt-get update` once, only when something is missing;
# uses sudo when not root. Safe to run repeatedly.
set -euo pipefail

packages=(
  build-essential cmake pkg-config git
  clang libclang-rt-14-dev clang-format clang-tidy lld
  libsodium-dev libzmq3-dev cppzmq-dev
  flatbuffers-compiler libflatbuffers-dev
  libspdlog-dev libfmt-dev
  libtomlplusplus-dev libcli11-dev nlohmann-json3-dev
  libgtest-dev libgmock-dev libbenchmark-dev libsqlite3-dev chromium ccache
  dpkg-dev fakeroot lintian systemd
  # The multi-host test (deploy/multihost.sh): namespaces and links; loss where there is no netem.
  iproute2 nftables
)
# Extra packages can be requested by callers (e.g. the HTML report test needs chromium).
packages+=("$@")

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "tearline: installing missing packages: ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
  else
    echo "tearline: need root or sudo to install: ${missing[*]}" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
