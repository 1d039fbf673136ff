#!/usr/bin/env bash
# Installs the Debian packages libgate needs, only those that are missing.
#   tools/deps.sh            build, unit tests, spec tests, fuzzing, wasm32-wasi
#   tools/deps.sh --arm64    also the cross toolchain, qemu and arm64 -dev packages
set -euo pipefail
pkgs=(build-essential pkg-config libcapstone-dev libxxhash-dev libcmocka-dev
      libffi-dev libssl-dev libseccomp-dev libjansson-dev wabt clang lld wasi-libc libclang-rt-14-dev-wasm32
      libclang-rt-14-dev tmux libpng-dev)
if [ "${1:-}" = "--arm64" ]; then
    pkgs+=(qemu-user gcc-aarch64-linux-gnu g++-aarch64-linux-gnu libc6-dev-arm64-cross libc6:arm64
           libcapstone-dev:arm64 libxxhash-dev:arm64 libcmocka-dev:arm64 libffi-dev:arm64 libssl-dev:arm64 libseccomp-dev:arm64
           libjansson-dev:arm64 libpng-dev:arm64)
    dpkg --print-foreign-architectures | grep -qx arm64 || dpkg --add-architecture arm64
fi
missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" && continue
    missing+=("$p")
    # a multiarch -dev package must be the same version as the native one:
    # name both, so apt upgrades the native one when the arm64 one is newer
    case "$p" in lib*-dev:arm64) missing+=("${p%:arm64}") ;; esac
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "deps: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q >/dev/null
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
