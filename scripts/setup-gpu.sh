#!/usr/bin/env bash
# Installs a Vulkan driver that Dawn (the npm package `webgpu`) can use, so WebGPU, gpu.js's
# webgpu mode and tfjs-backend-webgpu run here. On a machine without a GPU this is Mesa's
# lavapipe, a software Vulkan driver on the CPU. Debian 12's own Mesa (22.x) is too old for
# Dawn; the Mesa 25 in bookworm-backports works.
set -euo pipefail

have_vulkan_icd() {
  compgen -G '/usr/share/vulkan/icd.d/*.json' >/dev/null || compgen -G '/etc/vulkan/icd.d/*.json' >/dev/null
}

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null; then sudo "$@"
  else echo "setup:gpu: needs root (or sudo) to run: $*" >&2; exit 1
  fi
}

. /etc/os-release 2>/dev/null || true
if [ "${ID:-}" = debian ] && [ "${VERSION_CODENAME:-}" = bookworm ]; then
  mesa=$(dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null || true)
  if [[ "$mesa" =~ ^2[5-9]\. ]] && have_vulkan_icd; then
    echo "setup:gpu: mesa-vulkan-drivers $mesa already installed"
  else
    list=/etc/apt/sources.list.d/bookworm-backports.list
    if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
      echo "setup:gpu: enabling bookworm-backports in $list"
      echo 'deb http://deb.debian.org/debian bookworm-backports main' | as_root tee "$list" >/dev/null
    fi
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -t bookworm-backports mesa-vulkan-drivers >/dev/null
    echo "setup:gpu: installed mesa-vulkan-drivers $(dpkg-query -W -f='${Version}' mesa-vulkan-drivers)"
  fi
elif have_vulkan_icd; then
  echo "setup:gpu: a Vulkan driver is already installed ($(ls /usr/share/vulkan/icd.d/ /etc/vulkan/icd.d/ 2>/dev/null | tr '\n' ' '))"
else
  cat >&2 <<'MSG'
setup:gpu: this script automates Debian 12 only. Install a Vulkan driver that Dawn supports:
  - a real GPU: your vendor's Vulkan driver (NVIDIA: the proprietary driver; AMD/Intel: Mesa ≥ 24)
  - no GPU: Mesa's lavapipe ≥ 24 (Ubuntu 24.04+: apt install mesa-vulkan-drivers;
    Fedora: dnf install mesa-vulkan-drivers; Arch: pacman -S vulkan-swrast)
Then check with: npx tandem devices
MSG
  exit 1
fi
