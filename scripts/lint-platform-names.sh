#!/usr/bin/env bash
# Fails when a platform's name appears in the code of the core's platform-neutral folders
# (STYLE.md "Drivers are ops structs"; docs/providers.md "Adding a platform"): the core calls
# the provider ops, it never compares or spells a platform name. Comments do not count.
#
# usage: lint-platform-names.sh SRC_DIR [ALLOW_FILE]
#   The names: every driver's `.name = "..."` under SRC_DIR/providers and tests/platforms,
#   plus the vendors they stand for, except `manual` (ML_PLATFORM_MANUAL: the core's own
#   platform, a link typed by hand). Matched case-insensitively as words, in identifiers and
#   strings alike ("zoom", zoom_qps, MEETLINK_ZOOM_QPS, "Zoom").
#   ALLOW_FILE (default scripts/platform-names.allow): lines `path:text`; a finding in `path`
#   whose line contains `text` is allowed (tables of display names only, each with a reason).
set -u
src=${1:?usage: lint-platform-names.sh SRC_DIR [ALLOW_FILE]}
root=$(cd "$src/.." && pwd)
allow=${2:-$root/scripts/platform-names.allow}
exec python3 - "$src" "$root" "$allow" <<'PY'
import os, re, sys

src, root, allow_path = sys.argv[1:4]
names = set()
for d in (os.path.join(src, "providers"), os.path.join(root, "tests", "platforms")):
    if not os.path.isdir(d):
        continue
    for f in os.listdir(d):
        if f.endswith(".c"):
            names.update(re.findall(r'\.name\s*=\s*"([a-z0-9_]+)"', open(os.path.join(d, f)).read()))
names.discard("manual")
# The vendors behind platform names (google_meet, teams, jaas).
names.update({"google", "microsoft", "jitsi", "8x8"})
if len(names) < 5:
    sys.exit("lint-platform-names: found only %s: is %s the source tree?" % (sorted(names), src))
word = re.compile(r"(?<![A-Za-z0-9])(%s)(?![A-Za-z0-9])" % "|".join(
    sorted((re.escape(n) for n in names), key=len, reverse=True)), re.I)

allow = []
if os.path.exists(allow_path):
    for line in open(allow_path):
        line = line.rstrip("\n")
        if line and not line.startswith("#"):
            p, _, text = line.partition(":")
            allow.append((p.strip(), text.strip()))

def code_lines(text):
    """The text with comments blanked (strings kept), line structure intact."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            out.append(text[i:j + 1])
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out).split("\n")

dirs = ["api", "conn", "notify", "queue", "meeting", "app"]
bad = 0
for d in dirs:
    top = os.path.join(src, d)
    if not os.path.isdir(top):
        continue
    for dp, _, files in os.walk(top):
        for f in sorted(files):
            if not f.endswith((".c", ".h")):
                continue
            path = os.path.join(dp, f)
            rel = os.path.relpath(path, root)
            for no, line in enumerate(code_lines(open(path, encoding="utf-8").read()), 1):
                m = word.search(line)
                if not m:
                    continue
                if any(rel == p and t in line for p, t in allow):
                    continue
                print("%s:%d: platform name '%s' in the core: %s" % (rel, no, m.group(1),
                                                                    line.strip()))
                bad += 1
if bad:
    print("lint-platform-names: %d finding(s). Put it behind the provider ops "
          "(src/providers/provider.h), or list a display-name table in %s with a reason."
          % (bad, os.path.relpath(allow_path, root)), file=sys.stderr)
    sys.exit(1)
print("lint-platform-names: clean (%s)" % ", ".join(d for d in dirs
                                                    if os.path.isdir(os.path.join(src, d))))
PY
