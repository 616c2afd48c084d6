#!/usr/bin/env bash
# Installs what meetlink needs to build, run and test, from Debian's packages only.
# Idempotent and quick when everything is present: it asks apt only for what is missing.
#   scripts/bootstrap.sh            build + run dependencies
#   scripts/bootstrap.sh check      + what the test suite needs
#   scripts/bootstrap.sh bench      + what the benchmarks need
#   scripts/bootstrap.sh chaos      + what `make chaos` needs
#   scripts/bootstrap.sh fuzz       + what `make fuzz` needs (clang and its libFuzzer runtime)
set -euo pipefail

want=(build-essential cmake pkg-config ca-certificates tzdata
      libmicrohttpd-dev libcurl4-openssl-dev libjansson-dev libssl-dev
      libsqlite3-dev libpq-dev libical-dev libjemalloc-dev)
case "${1:-}" in
# postgresql: the server the e2e-pg/ and unit-pg/ tests and the benchmarks start themselves
# (initdb + pg_ctl into a temporary directory; Debian's package also brings psql and pg_dump).
check) want+=(libcmocka-dev python3 python3-jsonschema python3-aiosmtpd clang libclang-rt-14-dev
              openssl postgresql) ;;
bench) want+=(python3 wrk curl postgresql) ;;
chaos) want+=(python3 python3-aiosmtpd postgresql) ;;
# /usr/bin/clang comes from Debian's `clang` (clang-14); libFuzzer's runtime from libclang-rt-14-dev.
fuzz) want+=(clang libclang-rt-14-dev) ;;
esac

missing=()
for p in "${want[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# The browser tests: Debian's chromium, driven by playwright-core from npm (never a browser
# download). A node/npm already on the machine (e.g. NodeSource's, which bundles npm) is used
# as it is: Debian's npm package would conflict with it.
if [ "${1:-}" = check ]; then
	dpkg-query -W -f='${Status}' chromium 2>/dev/null | grep -q 'install ok installed' || missing+=(chromium)
fi
# npm also installs the JavaScript the daemon serves (vendor/: the twilio-video SDK).
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
	echo "bootstrap: installing ${missing[*]}" >&2
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo="sudo"
	export DEBIAN_FRONTEND=noninteractive
	$sudo apt-get update -qq
	$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ "${1:-}" = check ]; then
	browser_dir="$(dirname "$0")/../tests/browser"
	if [ ! -f "$browser_dir/node_modules/playwright-core/package.json" ] ||
	   [ ! -f "$browser_dir/node_modules/axe-core/axe.min.js" ]; then
		echo "bootstrap: installing playwright-core and axe-core (tests/browser, no browser download)" >&2
		(cd "$browser_dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
	fi
fi

# The JavaScript the daemon serves to its pages (vendor/, docs/gateway.md), from npm: never a
# CDN at run time.
vendor_dir="$(dirname "$0")/../vendor"
if [ ! -f "$vendor_dir/node_modules/twilio-video/dist/twilio-video.min.js" ]; then
	echo "bootstrap: installing the pages' JavaScript (vendor/: twilio-video)" >&2
	(cd "$vendor_dir" && npm ci --no-audit --no-fund --loglevel=error)
fi
