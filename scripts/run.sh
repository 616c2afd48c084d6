#!/usr/bin/env bash
# make run: start the provider sandbox and meetlink on SQLite, print where to go and a key.
set -euo pipefail
bin=$1
dir=$2
mkdir -p "$dir"
key_file=$dir/api-key
if [ ! -s "$key_file" ]; then
	# A random key made once for this store and kept beside it (mode 600).
	( umask 077; printf 'mlk_%s\n' "$(head -c 30 /dev/urandom | base32 | tr -d '=' | tr 'A-Z' 'a-z')" > "$key_file" )
fi
key=$(cat "$key_file")
listen=${MEETLINK_LISTEN:-127.0.0.1:8080}
sandbox_listen=${MEETLINK_SANDBOX_LISTEN:-127.0.0.1:8081}

"$bin" sandbox --listen "$sandbox_listen" > "$dir/sandbox.out" 2> "$dir/sandbox.log" &
sandbox_pid=$!
trap 'kill $sandbox_pid 2>/dev/null || true' EXIT
for _ in $(seq 50); do grep -q 'listening on' "$dir/sandbox.out" 2>/dev/null && break; sleep 0.1; done
sandbox_url=$(sed -n 's/.*listening on //p' "$dir/sandbox.out" | head -n1)

echo "meetlink sandbox: ${sandbox_url:-not started (see $dir/sandbox.log)}"
echo "dashboard:        http://$listen/"
echo "API key:          $key"
echo "try:              curl -H 'Authorization: Bearer $key' http://$listen/v1/hosts"
echo
MEETLINK_LISTEN=$listen \
MEETLINK_DB=${MEETLINK_DB:-sqlite:$dir/meetlink.db} \
MEETLINK_BOOTSTRAP_API_KEY=$key \
MEETLINK_SANDBOX_URL=${sandbox_url} \
	"$bin" serve
