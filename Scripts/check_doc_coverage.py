#!/usr/bin/env python3
"""Checks that every public symbol declared in the given modules has a doc comment of its own.

Reads the symbol graphs swift-docc-plugin extracted (.build/*/extracted-symbols/*/MODULE/).
A symbol passes when its doc comment was written in its own module: on the declaration, or
on the protocol requirement of the same module it implements (the symbol graph carries that
comment, and DocC shows it), or inherited from another of the modules checked (docs.sh
builds with `--enable-inherited-docs`, so DocC shows it). A comment inherited from
elsewhere (the standard library's `description`, `==`, `rawValue`...) does not count: the
page would show the standard library's words for our symbol. Symbols the compiler synthesizes (no source location) and extension blocks
are not checked.

Usage: check_doc_coverage.py MODULE...   Exit status: 0 when every symbol is documented.
"""

import json
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent


def graph_directory(module):
    candidates = [
        path for path in ROOT.glob(f".build/*/extracted-symbols/*/{module}")
        if (path / f"{module}.symbols.json").is_file()
    ]
    if not candidates:
        return None
    return max(candidates, key=lambda path: (path / f"{module}.symbols.json").stat().st_mtime)


def undocumented(module):
    """(checked count, [(where, title)]) for one module, or None without symbol graphs."""
    directory = graph_directory(module)
    if directory is None:
        return None
    checked, missing = 0, []
    for path in sorted(directory.glob("*.symbols.json")):
        graph = json.loads(path.read_text())
        for symbol in graph["symbols"]:
            if symbol["accessLevel"] not in ("public", "open"):
                continue
            if symbol["kind"]["identifier"] == "swift.extension" or "location" not in symbol:
                continue
            checked += 1
            comment = symbol.get("docComment")
            # Written in this module, or in another of the modules checked (a default
            # implementation in ConcurrentBusCore that ConcurrentBusDevices' types take):
            # DocC shows those, as docs.sh enables inherited docs.
            own = comment is not None and comment.get("module", module) in [module, *checked_modules]
            if own and any(line["text"].strip() for line in comment["lines"]):
                continue
            location = symbol["location"]
            source = location["uri"].split("/Sources/", 1)[-1]
            where = f"Sources/{source}:{location['position']['line'] + 1}"
            missing.append((where, ".".join(symbol["pathComponents"])))
    return checked, missing


checked_modules = []


def main(modules):
    checked_modules.extend(modules)
    failed = False
    total = 0
    for module in modules:
        result = undocumented(module)
        if result is None:
            print(f"check-doc-coverage: no symbol graph for {module} (run the docs build first)",
                  file=sys.stderr)
            failed = True
            continue
        checked, missing = result
        total += checked
        if checked == 0:
            print(f"check-doc-coverage: {module}: no public symbol found", file=sys.stderr)
            failed = True
        for where, title in missing:
            print(f"check-doc-coverage: {where}: public symbol {module}.{title} has no doc comment",
                  file=sys.stderr)
            failed = True
    if failed:
        return 1
    print(f"check-doc-coverage: {total} public symbols of {', '.join(modules)}, each documented")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
