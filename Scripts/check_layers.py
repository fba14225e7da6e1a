#!/usr/bin/env python3
"""Checks Package.swift's target graph against the layer table in ARCHITECTURE.md.

Usage: Scripts/check_layers.py PACKAGE_JSON ARCHITECTURE_MD
       Scripts/check_layers.py --self-test PACKAGE_JSON ARCHITECTURE_MD

PACKAGE_JSON is `swift package dump-package` output. Fails (exit 1) when:
- a target of the package is missing from the table, or the table names a target the
  package does not have;
- a target depends on a target of a higher layer (test targets may use any layer);
- a library product reaches, through its targets' dependencies, a target of the
  verification layer or above: what ships never depends on what checks it.
--self-test makes each of those faults in a copy of the package and fails unless every one
is reported, so the check is seen to fire.
"""
import copy
import json
import re
import sys

VERIFICATION = "verification"


def layer_table(markdown):
    """{target: (layer number, layer name)} from the rows of the "## Layers" table."""
    section = markdown.split("## Layers", 1)[1].split("\n## ", 1)[0]
    table = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and re.fullmatch(r"\d+", cells[0]):
            table[cells[2]] = (int(cells[0]), cells[1])
    if not table:
        sys.exit("check-layers: no layer table found under '## Layers' in ARCHITECTURE.md")
    return table


def target_dependencies(target):
    """Names of the package's own targets that `target` depends on."""
    names = []
    for dependency in target["dependencies"]:
        for kind in ("byName", "target"):
            if kind in dependency:
                names.append(dependency[kind][0])
    return names


def problems(package, table):
    targets = {t["name"]: t for t in package["targets"]}
    found = []
    for name in sorted(set(targets) - set(table)):
        if targets[name]["type"] != "test":
            found.append(f"target {name} is not in ARCHITECTURE.md's layer table")
    for name in sorted(set(table) - set(targets)):
        found.append(f"ARCHITECTURE.md lists {name}, which Package.swift does not have")
    verification_layer = min(
        (layer for layer, kind in table.values() if kind == VERIFICATION), default=None)
    for name, target in targets.items():
        if target["type"] == "test" or name not in table:
            continue
        for dependency in target_dependencies(target):
            if dependency in table and table[dependency][0] > table[name][0]:
                found.append(
                    f"{name} (layer {table[name][0]}) depends on {dependency} "
                    f"(layer {table[dependency][0]}): dependencies must point down")

    def closure(name, seen):
        if name in seen or name not in targets:
            return seen
        seen.add(name)
        for dependency in target_dependencies(targets[name]):
            closure(dependency, seen)
        return seen

    for product in package["products"]:
        if "library" not in product["type"]:
            continue
        reached = set()
        for name in product["targets"]:
            closure(name, reached)
        for name in sorted(reached):
            if name in table and verification_layer is not None \
                    and table[name][0] >= verification_layer:
                found.append(
                    f"library product {product['name']} depends on {name} "
                    f"({table[name][1]}): what ships must not depend on what checks it")
    return found


def self_test(package, table):
    """Each fault must be reported; the real package must be clean."""
    def with_dependency(source, dependency):
        faulty = copy.deepcopy(package)
        for target in faulty["targets"]:
            if target["name"] == source:
                target["dependencies"].append({"byName": [dependency, None]})
        return faulty

    unlisted = copy.deepcopy(package)
    unlisted["targets"].append({"name": "Unlisted", "type": "regular", "dependencies": []})
    faults = {
        "a library product reaching a checker": (
            with_dependency("ConcurrentBusDevices", "StressKit"), "library product"),
        "a dependency pointing up": (
            with_dependency("RCU", "ConcurrentBusCore"), "must point down"),
        "a target missing from the table": (unlisted, "not in ARCHITECTURE.md"),
    }
    failed = False
    for description, (faulty, expected) in faults.items():
        reported = problems(faulty, table)
        caught = any(expected in line for line in reported)
        print(f"self-test: {description}: {'caught' if caught else 'MISSED'}")
        failed |= not caught
    return not failed


def main():
    arguments = sys.argv[1:]
    testing = arguments[:1] == ["--self-test"]
    if testing:
        arguments = arguments[1:]
    if len(arguments) != 2:
        sys.exit(__doc__)
    package = json.load(open(arguments[0]))
    table = layer_table(open(arguments[1]).read())
    found = problems(package, table)
    for line in found:
        print(f"check-layers: {line}")
    if testing and not self_test(package, table):
        sys.exit(1)
    if found:
        sys.exit(1)
    print(f"check-layers: {len(table)} targets in {len(set(l for l, _ in table.values()))} "
          "layers agree with Package.swift; no library product reaches a checker")


if __name__ == "__main__":
    main()
