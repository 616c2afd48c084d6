#!/usr/bin/env python3
"""Fails when a folder of src/ includes a folder it may not: one above it in the order
written in docs/architecture.md (the ```rooms block), or one the order does not reach.

The order is read from the document itself, so the rule and its statement cannot drift: each
line of the block is a chain "a → b → c, d → e" (a comma puts folders side by side: neither
may include the other), and a folder may include exactly the folders its chains lead to.
Edges come from the quoted #include "folder/file.h" lines of src/*/; files directly under
src/ (main.c) are the top and are not checked. A folder missing from the order fails too,
so a new room is placed before it is used. Prints every offending include.

Usage: lint-rooms.py [repository root]
"""
import os
import re
import sys

ARROW = re.compile(r"\s*(?:→|->)\s*")
INCLUDE = re.compile(r'^\s*#\s*include\s+"([A-Za-z0-9_]+)/[^"]+"')


def read_order(doc):
    """The allowed edges: {folder: set of folders it may include}."""
    lines, inside = [], False
    with open(doc, encoding="utf-8") as f:
        for line in f:
            if line.strip() == "```rooms":
                inside = True
            elif inside and line.strip().startswith("```"):
                break
            elif inside and line.strip():
                lines.append(line.strip())
    if not lines:
        sys.exit(f"lint-rooms: no ```rooms block in {doc}")
    below = {}  # direct successors
    for chain in lines:
        steps = [[n.strip() for n in s.split(",") if n.strip()] for s in ARROW.split(chain)]
        for i, step in enumerate(steps):
            for a in step:
                below.setdefault(a, set())
                if i + 1 < len(steps):
                    below[a].update(steps[i + 1])
    reach = {}
    for a in below:
        seen, todo = set(), list(below[a])
        while todo:
            b = todo.pop()
            if b not in seen:
                seen.add(b)
                todo.extend(below.get(b, ()))
        reach[a] = seen
    return reach


def edges(src):
    """[(from folder, to folder, path, line number, line)] for every cross-folder include."""
    out = []
    for folder in sorted(os.listdir(src)):
        top = os.path.join(src, folder)
        if not os.path.isdir(top):
            continue
        for root, _, files in os.walk(top):
            for name in sorted(files):
                if not name.endswith((".c", ".h")):
                    continue
                path = os.path.join(root, name)
                with open(path, encoding="utf-8", errors="replace") as f:
                    for n, line in enumerate(f, 1):
                        m = INCLUDE.match(line)
                        if m and m.group(1) != folder:
                            out.append((folder, m.group(1), path, n, line.strip()))
    return out


def cycles(graph):
    """The folders on a cycle of graph ({a: {b}}), found by depth-first search."""
    state, stack, found = {}, [], []

    def visit(a):
        state[a] = 1
        stack.append(a)
        for b in sorted(graph.get(a, ())):
            if state.get(b) == 1:
                found.append(stack[stack.index(b):] + [b])
            elif b not in state:
                visit(b)
        stack.pop()
        state[a] = 2

    for a in sorted(graph):
        if a not in state:
            visit(a)
    return found


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..")
    reach = read_order(os.path.join(root, "docs", "architecture.md"))
    src = os.path.join(root, "src")
    bad, graph = [], {}
    for a, b, path, n, line in edges(src):
        graph.setdefault(a, set()).add(b)
        rel = os.path.relpath(path, root)
        if a not in reach:
            bad.append(f"{rel}:{n}: {line}  ({a}/ is not in the order)")
        elif b not in reach:
            bad.append(f"{rel}:{n}: {line}  ({b}/ is not in the order)")
        elif b not in reach[a]:
            bad.append(f"{rel}:{n}: {line}  ({a} → {b} goes against the order)")
    for folder in sorted(os.listdir(src)):
        if os.path.isdir(os.path.join(src, folder)) and folder not in reach:
            bad.append(f"src/{folder}/: not in the order of docs/architecture.md")
    for c in cycles(graph):
        bad.append("include cycle: " + " → ".join(c))
    if bad:
        print("\n".join(bad))
        print("lint-rooms: folders include against the order of docs/architecture.md "
              "(```rooms block); see STYLE.md, The house", file=sys.stderr)
        return 1
    print(f"lint-rooms: clean ({len(graph)} folders, "
          f"{sum(len(v) for v in graph.values())} folder edges)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
