#!/bin/sh
# Create the virtual environment and install Gongzhi with its test tools.
# Works on a fresh Debian/Ubuntu machine that has only Python >= 3.11, make and git:
# Debian splits `venv`/`ensurepip` into python3-venv, so install it when we are root.
set -eu
PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "Gongzhi needs Python >= 3.11 (found: $("$PYTHON" --version 2>&1))" >&2
  exit 1
fi
if [ ! -x "$VENV/bin/python" ]; then
  if ! "$PYTHON" -m venv "$VENV" 2>/dev/null; then
    rm -rf "$VENV"
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      echo "python venv support missing: installing python3-venv with apt-get"
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
      "$PYTHON" -m venv "$VENV"
    else
      echo "Cannot create a virtual environment. Install it first: sudo apt-get install python3-venv" >&2
      exit 1
    fi
  fi
fi
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e '.[test]'
echo "Installed Gongzhi into $VENV"
