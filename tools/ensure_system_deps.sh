#!/bin/sh
# Make sure Qt widgets can start offscreen; on Debian/Ubuntu as root, install what is missing.
python="$1"
probe() {
  QT_QPA_PLATFORM=offscreen "$python" -c "from PySide6.QtWidgets import QApplication; QApplication([])" >/dev/null 2>&1
}
probe && exit 0
packages="libegl1 libgl1 libopengl0 libxkbcommon0 libfontconfig1 libglib2.0-0 libdbus-1-3 fonts-dejavu-core"
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installation des bibliothèques système de Qt : $packages"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $packages >/dev/null
  probe && exit 0
fi
echo "Qt ne démarre pas : installez les paquets système $packages (Debian/Ubuntu) puis relancez." >&2
exit 1
