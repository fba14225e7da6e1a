#!/usr/bin/env python3
"""Fails when an atomic ordering stronger than relaxed in Sources/ does not say what it
pairs with.

Usage: Scripts/check_orderings.py [ROOT]

A Swift `ordering: .acquiring / .releasing / .acquiringAndReleasing /
.sequentiallyConsistent`, or a C `__ATOMIC_ACQUIRE / RELEASE / ACQ_REL / SEQ_CST`, must have
a comment containing "pairs with" ("paired with", "pairing with"; any case) on its own line or in the comment lines just
above its statement (a blank or code line ends the search), or in the doc comment of the C
function it is the body of. The argument is the guide's rule: every acquire/release says
what it pairs with. `--self-test` runs the check on a fault it must report.
"""
import os
import re
import sys

ORDERING = re.compile(
    r"[oO]rdering:\s*\.(acquiring|releasing|acquiringAndReleasing|sequentiallyConsistent)\b"
    r"|__ATOMIC_(ACQUIRE|RELEASE|ACQ_REL|SEQ_CST)\b")
MARKERS = re.compile(r"^\s*(///?|/\*+|\*/?)")
PAIRS = re.compile(r"pair(s|ed|ing)? with", re.IGNORECASE)
LOOKBACK = 8


def unexplained(lines):
    """Line numbers (1-based) of orderings with no "pairs with" comment near them."""
    found = []
    for index, line in enumerate(lines):
        if not ORDERING.search(line) or PAIRS.search(line):
            continue
        explained = False
        # Walk up through the statement's own lines and the comment block above it; a
        # comment may wrap "pairs with" over two lines, so the block is read as one text.
        back = index - 1
        while back >= 0 and index - back <= LOOKBACK:
            if not lines[back].strip():
                break
            block = " ".join(MARKERS.sub(" ", text) for text in lines[back:index])
            if PAIRS.search(" ".join(block.split())):
                explained = True
                break
            back -= 1
        if not explained:
            found.append(index + 1)
    return found


def scan(root):
    problems = []
    for folder, _, files in os.walk(os.path.join(root, "Sources")):
        for name in sorted(files):
            if not name.endswith((".swift", ".c", ".h")):
                continue
            path = os.path.join(folder, name)
            lines = open(path, encoding="utf-8").read().split("\n")
            for number in unexplained(lines):
                problems.append(f"{os.path.relpath(path, root)}:{number}: {lines[number - 1].strip()}")
    return problems


def self_test():
    fault = ["let flag = Atomic<Bool>(false)", "flag.store(true, ordering: .releasing)"]
    fine = ["// Releasing: pairs with the acquiring load in `wait`.",
            "flag.store(true, ordering: .releasing)"]
    return unexplained(fault) == [2] and unexplained(fine) == []


def main():
    arguments = sys.argv[1:]
    if arguments[:1] == ["--self-test"]:
        if not self_test():
            sys.exit("check-orderings: self-test failed: an unexplained ordering went unreported")
        arguments = arguments[1:]
    root = arguments[0] if arguments else "."
    problems = scan(root)
    for problem in problems:
        print(f"check-orderings: no 'pairs with' for {problem}")
    if problems:
        sys.exit(1)
    print("check-orderings: every acquire, release and seq_cst ordering in Sources says what it pairs with")


if __name__ == "__main__":
    main()
