#!/usr/bin/env bash
# Installs what `make run` / `make test` need and a fresh machine may lack (Debian packages; we are root).
# Usage: ensure-tools.sh python|wrk ...
set -euo pipefail
updated=0
apt_install() {
  if [ "$updated" = 0 ]; then apt-get update -qq >/dev/null; updated=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}
for tool in "$@"; do
  case "$tool" in
    python)
      command -v python3 >/dev/null || apt_install python3
      python3 -c 'import venv, ensurepip' 2>/dev/null || apt_install python3-venv
      ;;
    wrk) command -v wrk >/dev/null || apt_install wrk ;;
    *) echo "ensure-tools: unknown tool $tool" >&2; exit 2 ;;
  esac
done
