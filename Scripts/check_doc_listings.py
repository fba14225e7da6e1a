#!/usr/bin/env python3
"""Checks that every code listing of the DocC articles is, verbatim, a region of a test.

In an article (any .md file of a .docc catalog under Sources/), every ```swift block is
preceded, on the line just above its fence, by an HTML comment naming it (DocC drops the
comment from the rendered page):

    <!-- listing: getting-started-buses -->
    ```swift
    let pio = IOBus(space: .portIO)
    ```

In Tests/DocumentationTests/*.swift, the same code sits between two marker comments, where
it compiles and runs (the test around it checks what the article says about it):

    // listing: getting-started-buses
    let pio = IOBus(space: .portIO)
    // end listing

The two must be identical once the region's common indentation is removed. Every listing
must have exactly one region and every region one listing; anything else is an error, with
a diff. Exit status: 0 when all match, 1 otherwise.
"""

import difflib
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
NAME = r"([a-z0-9][a-z0-9-]*)"
ARTICLE_MARK = re.compile(r"^<!-- listing: " + NAME + r" -->$")
REGION_START = re.compile(r"^\s*// listing: " + NAME + r"\s*$")
REGION_END = re.compile(r"^\s*// end listing\s*$")


def article_listings(errors):
    """{name: (code lines, where)} from every catalog's markdown files."""
    listings = {}
    for path in sorted(ROOT.glob("Sources/*/*.docc/**/*.md")):
        lines = path.read_text().splitlines()
        where_file = path.relative_to(ROOT)
        index = 0
        while index < len(lines):
            line = lines[index]
            if not line.startswith("```"):
                index += 1
                continue
            fence_line = index + 1
            language = line[3:].strip()
            end = index + 1
            while end < len(lines) and lines[end] != "```":
                end += 1
            if end == len(lines):
                errors.append(f"{where_file}:{fence_line}: unterminated code block")
                return listings
            code = lines[index + 1 : end]
            index = end + 1
            if language != "swift":
                continue
            mark = ARTICLE_MARK.match(lines[fence_line - 2]) if fence_line >= 2 else None
            where = f"{where_file}:{fence_line}"
            if not mark:
                errors.append(f"{where}: swift block without a '<!-- listing: NAME -->' line above it")
                continue
            name = mark.group(1)
            if name in listings:
                errors.append(f"{where}: listing '{name}' also at {listings[name][1]}")
                continue
            listings[name] = (code, where)
    return listings


def test_regions(errors):
    """{name: (code lines, where)} from the documentation tests."""
    regions = {}
    for path in sorted(ROOT.glob("Tests/DocumentationTests/*.swift")):
        lines = path.read_text().splitlines()
        where_file = path.relative_to(ROOT)
        index = 0
        while index < len(lines):
            start = REGION_START.match(lines[index])
            index += 1
            if not start:
                if REGION_END.match(lines[index - 1]):
                    errors.append(f"{where_file}:{index}: '// end listing' without a start")
                continue
            name, where = start.group(1), f"{where_file}:{index}"
            end = index
            while end < len(lines) and not REGION_END.match(lines[end]):
                if REGION_START.match(lines[end]):
                    errors.append(f"{where_file}:{end + 1}: region inside region '{name}'")
                end += 1
            if end == len(lines):
                errors.append(f"{where}: region '{name}' has no '// end listing'")
                return regions
            if name in regions:
                errors.append(f"{where}: region '{name}' also at {regions[name][1]}")
            else:
                regions[name] = (dedent(lines[index:end]), where)
            index = end + 1
    return regions


def dedent(lines):
    indents = [len(line) - len(line.lstrip(" ")) for line in lines if line.strip()]
    cut = min(indents, default=0)
    return [line[cut:] if line.strip() else "" for line in lines]


def main():
    errors = []
    listings = article_listings(errors)
    regions = test_regions(errors)
    for name, (code, where) in sorted(listings.items()):
        if name not in regions:
            errors.append(f"{where}: listing '{name}' has no region in Tests/DocumentationTests")
            continue
        region, region_where = regions[name]
        article = [line.rstrip() for line in code]
        if article != [line.rstrip() for line in region]:
            diff = difflib.unified_diff(
                region, article, fromfile=region_where, tofile=where, lineterm="")
            errors.append(f"{where}: listing '{name}' differs from its test region\n"
                          + "\n".join(diff))
    for name, (_, where) in sorted(regions.items()):
        if name not in listings:
            errors.append(f"{where}: region '{name}' is in no article")
    for error in errors:
        print(f"check-doc-listings: {error}", file=sys.stderr)
    if errors:
        return 1
    if not listings:
        print("check-doc-listings: no listings found", file=sys.stderr)
        return 1
    print(f"check-doc-listings: {len(listings)} listings, each identical to its test region")
    return 0


if __name__ == "__main__":
    sys.exit(main())
