#!/usr/bin/env bash
# Installs the system libraries Qt's wheels need and a CJK font, when the machine allows it.
# Debian/Ubuntu only; elsewhere it says what to install and carries on.
set -u
PKGS="libegl1 libgl1 libgbm1 libnss3 libnspr4 libasound2 libxkbcommon0 libxkbfile1 libxcomposite1 libxdamage1
libxrandr2 libxtst6 libfontconfig1 libdbus-1-3 libglib2.0-0 libxcb-cursor0 libxkbcommon-x11-0 libxcb-icccm4
libxcb-image0 libxcb-keysyms1 libxcb-randr0 libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libxcb-xkb1
libxshmfence1 libxss1 fonts-noto-cjk"
if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
  echo "system-deps: not a Debian system; install Qt 6 runtime libraries and a CJK font yourself if the GUI fails."
  exit 0
fi
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
SUDO=""
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "system-deps: missing$missing; run as root: apt-get install$missing"; exit 0; fi
fi
echo "system-deps: installing$missing"
$SUDO apt-get update -qq >/dev/null 2>&1 || true
# Some names differ between Debian releases (libasound2t64 on newer ones): install one by one.
for p in $missing; do
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$p" >/dev/null 2>&1 \
    || { [ "$p" = libasound2 ] && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq libasound2t64 >/dev/null 2>&1; } \
    || echo "system-deps: could not install $p"
done
rm -f "$HOME"/.cache/matplotlib/fontlist-*.json
exit 0
