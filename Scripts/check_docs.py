#!/usr/bin/env python3
"""Checks that the prose documentation names only things that exist.

Usage: check_docs.py STRESS_BINARY

Documents checked: README.md, ARCHITECTURE.md (if present), BENCHMARKS.md and docs/*.md.
It fails (exit 1, one line per problem, with file:line) when:

(a) a repository path does not exist in this tree. Paths are read from inline code
    (`Sources/RCU`, `Scripts/test.sh --quick`: the first word) and from code-block lines
    (any word), when they start with Sources/, Scripts/, Tests/, docs/, Examples/, Fuzz/ or
    .ci/; a `*` in one is a glob that must match something. Markdown links to relative
    files ([x](docs/stress.md), [x](BENCHMARKS.md#targets)) must name an existing file,
    and an #anchor a heading of that file (GitHub's heading slugs).

(b) a stress command line does not parse. A command line is `stress ARGS`, a path ending
    in /stress (`.build/release/stress ARGS`) or a wrapper script (`Scripts/stress.sh
    ARGS`, `Scripts/check-faults.sh ARGS`, `Scripts/bench.sh ARGS`), in inline code (up to
    the end of the span) or a code-block line (up to a `#` comment, `;`, `|`, `&&` or `>`).
    Each runs as STRESS_PARSE_ONLY=1 STRESS_BINARY ARGS, which parses and validates the
    arguments and runs nothing; a non-zero exit is a failure.

    Placeholders: a command line containing a placeholder is a template and is not run.
    A placeholder is an ALL-CAPS word (N, S, PATH, NAME, ARGS, SECONDS), a word in <...> or
    [...], or `...`. Write `stress churn --json PATH`, not a made-up real path.

    Synopses: a code block whose lines start with `stress COMMAND [` (continuation lines
    indented) is a synopsis. Each of its commands must exist and name exactly the options
    that `stress COMMAND --help` shows (from --experimental-dump-help): an option missing
    from the synopsis or unknown to the tool is a failure.
"""

import glob
import json
import os
import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
PATH_ROOTS = ("Sources/", "Scripts/", "Tests/", "docs/", "Examples/", "Fuzz/", ".ci/")
# Wrapper scripts and the stress command they pass their arguments to.
WRAPPERS = {
    "Scripts/stress.sh": [],
    "Scripts/check-faults.sh": ["faults"],
    "Scripts/bench.sh": ["bench"],
}
PLACEHOLDER = re.compile(r"^[A-Z][A-Z0-9_]*$|^[<\[]|[>\]]$|\.\.\.")
FENCE = re.compile(r"^\s*(```|~~~)")
INLINE_CODE = re.compile(r"`([^`]+)`")
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
PATH_WORD = re.compile(
    r"(?<![\w./-])((?:" + "|".join(re.escape(r) for r in PATH_ROOTS) + r")[\w./*+-]*)"
)
TRAILING = ".,:;)"


def documents():
    names = ["README.md", "ARCHITECTURE.md", "BENCHMARKS.md"]
    paths = [ROOT / name for name in names if (ROOT / name).exists()]
    return paths + sorted((ROOT / "docs").glob("*.md"))


def blocks(path):
    """Yields (kind, line numbers, text): 'code' for each line inside a fence, 'fence' for a
    fence, 'text' for each paragraph outside (its lines joined by spaces, so inline code may
    wrap; line numbers holds where each of its lines starts in text)."""
    inside = False
    paragraph = []

    def joined():
        starts, offset = [], 0
        for number, line in paragraph:
            starts.append((offset, number))
            offset += len(line) + 1
        return "text", starts, " ".join(line for _, line in paragraph)

    for number, line in enumerate(path.read_text().splitlines(), 1):
        if FENCE.match(line):
            if paragraph:
                yield joined()
                paragraph = []
            inside = not inside
            yield "fence", [(0, number)], line
        elif inside:
            yield "code", [(0, number)], line
        elif line.strip():
            paragraph.append((number, line.strip()))
        elif paragraph:
            yield joined()
            paragraph = []
    if paragraph:
        yield joined()


def line_at(starts, offset):
    """The line number of the character at offset in a joined paragraph."""
    return max((start, number) for start, number in starts if start <= offset)[1]


def slug(heading):
    """GitHub's anchor for a heading."""
    text = re.sub(r"[`*]|\[([^\]]*)\]\([^)]*\)", r"\1", heading.strip().lower())
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(path):
    found, inside = set(), False
    for line in path.read_text().splitlines():
        if FENCE.match(line):
            inside = not inside
        elif not inside and line.startswith("#"):
            base = slug(line.lstrip("#"))
            name, n = base, 0
            while name in found:
                n += 1
                name = f"{base}-{n}"
            found.add(name)
    return found


def path_exists(word):
    word = word.rstrip(TRAILING)
    if "*" in word:
        return bool(glob.glob(str(ROOT / word)))
    return (ROOT / word).exists()


def check_link(doc, target):
    if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto:
        return None
    file_part, _, anchor = target.partition("#")
    linked = (doc.parent / file_part).resolve() if file_part else doc
    if not linked.exists():
        return f"link to a missing file: {target}"
    if anchor and linked.suffix == ".md" and anchor not in anchors(linked):
        return f"link to a missing heading: {target}"
    return None


def command_in(words):
    """The stress arguments of a command line in `words`, or None."""
    for index, word in enumerate(words):
        if word == "stress" or word.endswith("/stress"):
            return words[index + 1 :]
        if word in WRAPPERS:
            return WRAPPERS[word] + words[index + 1 :]
    return None


def shell_words(text):
    text = re.split(r"\s#|;|\||&&|>", text)[0]
    return text.split()


class Tool:
    def __init__(self, binary):
        self.binary = binary
        dump = subprocess.run(
            [binary, "--experimental-dump-help"], capture_output=True, text=True, check=True
        )
        self.options = {}
        for sub in json.loads(dump.stdout)["command"].get("subcommands", []):
            names = set()
            for argument in sub.get("arguments", []):
                if argument.get("shouldDisplay", True) and argument["kind"] in ("option", "flag"):
                    names |= {"--" + n["name"] for n in argument["names"] if n["kind"] == "long"}
            names.discard("--help")
            self.options[sub["commandName"]] = names

    def parse(self, arguments):
        environment = dict(os.environ, STRESS_PARSE_ONLY="1")
        result = subprocess.run(
            [self.binary, *arguments], capture_output=True, text=True, env=environment, timeout=60
        )
        if result.returncode == 0:
            return None
        return (result.stderr.strip().splitlines() or ["exit %d" % result.returncode])[0]


def check_synopsis(tool, lines, problems, where):
    entries = []
    for number, line in lines:
        words = line.split()
        if words and words[0] == "stress":
            entries.append((number, words[1] if len(words) > 1 else "", [line]))
        elif entries and line.strip():
            entries[-1][2].append(line)
    for number, command, text in entries:
        if command not in tool.options:
            problems.append(f"{where}:{number}: synopsis of an unknown command: stress {command}")
            continue
        named = set(re.findall(r"(?<![\w-])--[a-z0-9][a-z0-9-]*", " ".join(text)))
        for option in sorted(named - tool.options[command]):
            problems.append(f"{where}:{number}: stress {command} has no option {option}")
        for option in sorted(tool.options[command] - named):
            problems.append(f"{where}:{number}: stress {command} synopsis lacks {option}")


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: check_docs.py STRESS_BINARY")
    tool = Tool(sys.argv[1])
    problems, paths, commands, templates = [], 0, 0, 0

    def check_command(arguments, where):
        nonlocal commands, templates
        if any(PLACEHOLDER.search(word) for word in arguments):
            templates += 1
            return
        commands += 1
        error = tool.parse(arguments)
        if error:
            problems.append(f"{where}: does not parse: stress {' '.join(arguments)}: {error}")

    def check_path(word, where):
        nonlocal paths
        paths += 1
        if not path_exists(word):
            problems.append(f"{where}: no such path: {word.rstrip(TRAILING)}")

    for doc in documents():
        name = doc.relative_to(ROOT)
        code = []
        for kind, starts, text in blocks(doc):
            number = starts[0][1]
            if kind == "fence":
                if code and code[0][1].startswith("stress ") and "[" in code[0][1]:
                    check_synopsis(tool, code, problems, name)
                elif code:
                    for line_number, line in code:
                        for word in PATH_WORD.findall(line):
                            check_path(word, f"{name}:{line_number}")
                        arguments = command_in(shell_words(line))
                        if arguments is not None:
                            check_command(arguments, f"{name}:{line_number}")
                code = []
            elif kind == "code":
                code.append((number, text))
            else:
                prose = INLINE_CODE.sub(lambda m: " " * len(m.group(0)), text)
                for link in LINK.finditer(prose):
                    problem = check_link(doc, link.group(1))
                    if problem:
                        problems.append(f"{name}:{line_at(starts, link.start())}: {problem}")
                for span in INLINE_CODE.finditer(text):
                    where = f"{name}:{line_at(starts, span.start())}"
                    words = span.group(1).split()
                    if words and words[0].startswith(PATH_ROOTS):
                        check_path(words[0], where)
                    arguments = command_in(words)
                    if arguments is not None:
                        check_command(arguments, where)

    for problem in problems:
        print(f"check-docs: {problem}", file=sys.stderr)
    summary = f"{paths} paths, {commands} stress command lines parsed, {templates} templates"
    if problems:
        print(f"check-docs: {len(problems)} problems ({summary})", file=sys.stderr)
        sys.exit(1)
    print(f"check-docs: {len(documents())} documents clean ({summary})")


if __name__ == "__main__":
    main()
