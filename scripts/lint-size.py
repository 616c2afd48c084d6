#!/usr/bin/env python3
"""lint/size: no source file of src/ over 800 lines, no function over 100 lines unless the
comment right above it gives a reason ("long: why", e.g. /* long: one table of every field */).

    scripts/lint-size.py [SRC_DIR=src]

A function is counted from the line its definition starts (at column 0) to its closing brace
at column 0 (the project's style, clang-format's). Prints each offence with its path, line
and length; exits 1 if there is one. The limits are the project's quality bar
(../shared/STYLE.md, issue 16)."""
import os
import re
import sys

FILE_MAX = 800
FUNC_MAX = 100
SIG = re.compile(r"^(?!static\s+const\s+struct\s+\w+\s+\w+\[\])[A-Za-z_][\w\s\*,]*?\b([A-Za-z_]\w*)\s*\(")
MARK = re.compile(r"\blong:\s*\S")


def comment_above(lines, i):
    """The comment block ending on the line just above line i (0-based), as one string."""
    j = i - 1
    if j < 0 or not lines[j].rstrip().endswith("*/"):
        return ""
    block = []
    while j >= 0:
        block.append(lines[j])
        if "/*" in lines[j]:
            break
        j -= 1
    return "\n".join(reversed(block))


def functions(lines):
    """(name, first line index, length) of every function definition."""
    i, n = 0, len(lines)
    while i < n:
        m = SIG.match(lines[i])
        if not m or lines[i].startswith(("typedef", "struct ", "enum ", "union ", "#")) and \
                "(" not in lines[i]:
            i += 1
            continue
        # The signature may run over several lines; a definition's body opens with "{" at
        # column 0 before any ";" ends a declaration.
        j = i
        while j < n and not lines[j].startswith("{"):
            if lines[j].rstrip().endswith(";") or (j > i and SIG.match(lines[j])):
                break
            j += 1
        if j >= n or not lines[j].startswith("{"):
            i += 1
            continue
        k = j + 1
        while k < n and not lines[k].startswith("}"):
            k += 1
        yield m.group(1), i, k - i + 1
        i = k + 1


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else "src"
    bad = 0
    for root, _dirs, files in os.walk(src):
        for f in sorted(files):
            if not f.endswith((".c", ".h")):
                continue
            path = os.path.join(root, f)
            with open(path, encoding="utf-8", errors="replace") as fh:
                lines = fh.read().split("\n")
            if lines and lines[-1] == "":
                lines.pop()
            if len(lines) > FILE_MAX:
                print(f"{path}: {len(lines)} lines (more than {FILE_MAX}): split it by concept")
                bad += 1
            for name, first, length in functions(lines):
                if length > FUNC_MAX and not MARK.search(comment_above(lines, first)):
                    print(f"{path}:{first + 1}: {name}() is {length} lines (more than "
                          f"{FUNC_MAX}) with no /* long: reason */ above it")
                    bad += 1
    if bad:
        print(f"lint/size: {bad} offence(s)")
        return 1
    print("lint-size: clean")
    return 0


if __name__ == "__main__":
    sys.exit(main())
