#!/usr/bin/env bash
# Installs what `make run` / `make test` need and a fresh machine may lack (Debian packages; we are root).
# Usage: ensure-tools.sh python|wrk|hiredis|redis|chromium ...
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
    # The build needs hiredis' headers and library (the CHiredis system-library target).
    hiredis) [ -f /usr/include/hiredis/hiredis.h ] || apt_install libhiredis-dev ;;
    # The Redis tests start their own redis-server on loopback (scripts/redis-test-server.sh).
    redis) command -v redis-server >/dev/null || apt_install redis-server ;;
    # The dashboard's browser tests drive Debian's Chromium through Playwright (never a browser it downloads);
    # DejaVu covers Cyrillic, so Russian pages render the same everywhere.
    chromium)
      [ -x /usr/lib/chromium/chromium ] || apt_install --no-install-recommends chromium
      [ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || apt_install fonts-dejavu-core
      ;;
    *) echo "ensure-tools: unknown tool $tool" >&2; exit 2 ;;
  esac
done
