#!/usr/bin/env bash
# deps.sh - install the Debian packages Nestlab builds and tests with, when
# they are missing.  Used by demo.sh, test.sh and .ci/run.
set -euo pipefail

PKGS=(build-essential cmake pkg-config python3
      libunicorn-dev libcapstone-dev libcunit1-dev libncurses-dev libsdl2-dev
      qemu-system-x86 bochs bochsbios vgabios
      grub-pc-bin grub-efi-amd64-bin grub-common xorriso mtools ovmf
      gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user tmux)

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "nestlab: installing ${missing[*]}" >&2
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "${missing[@]}"
