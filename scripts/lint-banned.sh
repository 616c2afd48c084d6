#!/usr/bin/env bash
# Fails when a function curl bans appears in the C sources given.
set -u
pat='\b(sprintf|vsprintf|strcpy|strcat|strncat|strtok|gets|atoi|atol|atoll)[[:space:]]*\('
if grep -rnE "$pat" --include='*.c' --include='*.h' "$@"; then
	echo "banned function used (see STYLE.md: use snprintf, memcpy, strtok_r, strtol)" >&2
	exit 1
fi
echo "lint-banned: clean"
