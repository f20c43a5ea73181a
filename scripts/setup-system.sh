#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages deepcuts needs to build, test and run (PLATFORM.md lists
# why each is there). Does nothing when they are all present; uses sudo when not root.
set -euo pipefail

PACKAGES=(
  pkg-config libasound2-dev          # cpal's ALSA backend (alsa-sys links libasound)
  libopus-dev                        # Ogg Opus decoding through symphonia-adapter-libopus
  mesa-vulkan-drivers libvulkan1     # lavapipe: software Vulkan for wgpu when there is no GPU
  xvfb xauth imagemagick x11-apps xdotool   # a virtual display and screenshots of the app
  libxkbcommon-x11-0 libx11-xcb1 libxcursor1 libxi6 libxrandr2 libgl1-mesa-dri libegl1
)

missing=()
for package in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

sudo=()
if [[ $EUID -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "setup-system: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo=(sudo)
fi
echo "setup-system: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
