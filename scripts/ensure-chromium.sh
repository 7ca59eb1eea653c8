#!/bin/sh
# Browser tests drive Debian's chromium through Playwright (never `playwright install`, which
# downloads a browser build from outside the package registries).
set -eu
# pdftotext (poppler-utils) lets the receipt tests read the Chinese text back out of the PDFs.
if command -v chromium >/dev/null 2>&1 && command -v pdftotext >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian's chromium for the browser tests…"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk poppler-utils >/dev/null
  exit 0
fi
cat >&2 <<'MSG'
!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!
!! chromium is not installed and this is not root: BROWSER TESTS WILL BE SKIPPED.
!! Install it with:  sudo apt-get install chromium fonts-noto-cjk poppler-utils
!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!
MSG
