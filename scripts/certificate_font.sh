#!/usr/bin/env bash
# The TrueType CJK font certificates are printed with (Debian fonts-wqy-zenhei, GPL with the font embedding
# exception). `make run` calls this: it installs the package when missing and apt-get can be used (root, or
# sudo without a password); otherwise it says so and the app still runs — printing a certificate then
# answers that the font is missing (CERTIFICATE_FONT may name another TrueType CJK font).
set -uo pipefail
FONT=/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc
[ -f "$FONT" ] && exit 0
[ -n "${CERTIFICATE_FONT:-}" ] && [ -f "${CERTIFICATE_FONT%:*}" ] && exit 0
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo -n"; else SUDO="none"; fi
fi
if [ "$SUDO" != "none" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing the certificate font (Debian package fonts-wqy-zenhei)"
  $SUDO apt-get install -y -qq fonts-wqy-zenhei >/dev/null 2>&1 || \
    { $SUDO apt-get update -qq >/dev/null 2>&1 && $SUDO apt-get install -y -qq fonts-wqy-zenhei >/dev/null 2>&1; }
fi
if [ ! -f "$FONT" ]; then
  echo "WARNING: the Chinese font for certificate PDFs is not installed; certificates cannot be printed until" >&2
  echo "         'apt-get install fonts-wqy-zenhei' is run (or CERTIFICATE_FONT names a TrueType CJK font)." >&2
fi
exit 0
