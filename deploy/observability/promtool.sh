#!/usr/bin/env bash
# Puts promtool (Prometheus's rule checker) at .local/promtool/promtool, for the test that
# validates deploy/observability/alerts.yml. It comes from Debian's `prometheus` package,
# unpacked rather than installed: we want the checker, not a Prometheus daemon started by the
# package's install scripts. A promtool already on PATH is used as it is.
set -euo pipefail
cd "$(dirname "$0")/../.."
target=.local/promtool
if command -v promtool >/dev/null || [ -x "$target/promtool" ]; then
  exit 0
fi
mkdir -p "$target/deb"
(
  cd "$target/deb"
  if ! apt-get download prometheus >/dev/null 2>&1; then
    # A fresh machine has no package lists yet.
    if [ "$(id -u)" -eq 0 ]; then apt-get update -qq; fi
    apt-get download prometheus >/dev/null
  fi
  dpkg-deb -x prometheus_*.deb unpacked
)
mv "$target/deb/unpacked/usr/bin/promtool" "$target/promtool"
rm -rf "$target/deb"
"$target/promtool" --version | head -1
