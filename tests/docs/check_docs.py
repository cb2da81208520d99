#!/usr/bin/env python3
"""Documentation checks run by CTest (tests/docs/CMakeLists.txt).

  check_docs.py refs ROOT   no source file cites a document outside the repository
                            ("SPEC §", "SPEC.md", "DEPENDENCIES", "STYLE §"): code
                            links docs/ instead.
  check_docs.py cli ROOT TRELLIS
                            every option that `trellis <command> --help` prints is
                            documented in docs/cli.md (and, for serve, in the table
                            of docs/configuration.md).
  check_docs.py selftest    both checks find planted problems in a temporary tree
  check_docs.py links ROOT  every relative link in README.md, docs/*.md and
                            examples/**/README.md names an existing file, and an
                            anchor that the target Markdown file has.
Exit 0 when clean; 1 with one line per problem.
"""
import os
import re
import subprocess
import sys

FORBIDDEN = ["SPEC §", "SPEC.md", "DEPENDENCIES", "STYLE §"]
SKIP_DIRS = {".git", "node_modules", "dist", "build", "artifacts"}
SKIP_FILES = {"package-lock.json", os.path.join("tests", "docs", "check_docs.py")}
TEXT_EXT = {".cpp", ".h", ".hpp", ".c", ".g4", ".txt", ".cmake", ".sh", ".py", ".ts", ".tsx",
            ".js", ".mjs", ".json", ".yaml", ".yml", ".flow", ".md", ".css", ".html"}


def repo_files(root):
    """Tracked and untracked-but-not-ignored files when git is there; else a walk."""
    try:
        out = subprocess.run(["git", "-C", root, "ls-files", "--cached", "--others",
                              "--exclude-standard"], capture_output=True, text=True, check=True)
        files = [f for f in out.stdout.splitlines() if f]
        if files:
            return files
    except (OSError, subprocess.CalledProcessError):
        pass
    files = []
    for d, dirs, names in os.walk(root):
        dirs[:] = [x for x in dirs if x not in SKIP_DIRS and not x.startswith("build")]
        files += [os.path.relpath(os.path.join(d, n), root) for n in names]
    return files


def check_refs(root):
    problems = []
    for rel in repo_files(root):
        parts = rel.split(os.sep)
        if rel in SKIP_FILES or any(p in SKIP_DIRS for p in parts[:-1]):
            continue
        if os.path.splitext(rel)[1] not in TEXT_EXT and os.path.basename(rel) != "CMakeLists.txt":
            continue
        path = os.path.join(root, rel)
        if not os.path.isfile(path):
            continue
        with open(path, encoding="utf-8", errors="replace") as f:
            for number, line in enumerate(f, 1):
                for word in FORBIDDEN:
                    if word in line:
                        problems.append(f"{rel}:{number}: cites '{word}'; link a page of docs/ instead")
    return problems


def slug(heading):
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to '-'."""
    text = re.sub(r"<[^>]+>", "", heading)                # inline HTML
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)  # links keep their text
    text = text.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def strip_code(text):
    text = re.sub(r"^(```|~~~).*?^\1", "", text, flags=re.S | re.M)
    return re.sub(r"`[^`\n]*`", "", text)


def anchors_of(path, cache={}):
    if path not in cache:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        text_no_fences = re.sub(r"^(```|~~~).*?^\1", "", text, flags=re.S | re.M)
        found, seen = set(), {}
        for m in re.finditer(r"^#{1,6}\s+(.*?)\s*#*\s*$", text_no_fences, flags=re.M):
            base = slug(m.group(1))
            n = seen.get(base, 0)
            seen[base] = n + 1
            found.add(base if n == 0 else f"{base}-{n}")
        found.update(re.findall(r"""<a\s+(?:id|name)=["']([^"']+)["']""", text))
        cache[path] = found
    return cache[path]


def check_links(root):
    pages = ["README.md"]
    for d, dirs, names in os.walk(os.path.join(root, "docs")):
        pages += [os.path.relpath(os.path.join(d, n), root) for n in names if n.endswith(".md")]
    for d, dirs, names in os.walk(os.path.join(root, "examples")):
        dirs[:] = [x for x in dirs if x not in SKIP_DIRS]
        pages += [os.path.relpath(os.path.join(d, n), root) for n in names if n == "README.md"]
    problems = []
    for page in sorted(pages):
        with open(os.path.join(root, page), encoding="utf-8") as f:
            text = strip_code(f.read())
        for m in re.finditer(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)", text):
            target = m.group(1)
            if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto:
                continue
            file_part, _, anchor = target.partition("#")
            path = os.path.normpath(os.path.join(root, os.path.dirname(page), file_part)) \
                if file_part else os.path.join(root, page)
            if not os.path.exists(path):
                problems.append(f"{page}: link to '{target}': no such file")
                continue
            if anchor and path.endswith(".md") and anchor not in anchors_of(path):
                problems.append(f"{page}: link to '{target}': no heading '#{anchor}' in "
                                f"{os.path.relpath(path, root)}")
    return problems


COMMANDS = ["check", "fmt", "graph", "test", "serve"]


def options_of(trellis, command):
    out = subprocess.run([trellis, command, "--help"], capture_output=True, text=True)
    return sorted(set(re.findall(r"(?<![\w-])--[a-z][a-z-]*", out.stdout + out.stderr)) - {"--help"})


def check_cli(root, trellis):
    """Options in --help but not in the docs (the docs may say more than --help)."""
    with open(os.path.join(root, "docs", "cli.md"), encoding="utf-8") as f:
        cli = f.read()
    with open(os.path.join(root, "docs", "configuration.md"), encoding="utf-8") as f:
        table = "\n".join(l for l in f.read().splitlines() if l.startswith("| `--"))
    problems = []
    for command in COMMANDS:
        for option in options_of(trellis, command):
            if not re.search(re.escape(option) + r"(?![\w-])", cli):
                problems.append(f"docs/cli.md: `trellis {command} {option}` is not documented")
            if command == "serve" and not re.search(re.escape(option) + r"(?![\w-])", table):
                problems.append(f"docs/configuration.md: `{option}` is missing from the options table")
    return problems


def selftest():
    """The checks must be able to fail: plant one problem of each kind and expect it."""
    import tempfile
    with tempfile.TemporaryDirectory() as root:
        os.makedirs(os.path.join(root, "docs"))
        os.makedirs(os.path.join(root, "src"))
        with open(os.path.join(root, "src", "a.cpp"), "w") as f:
            f.write("// as SPEC \u00a73 says\n")
        with open(os.path.join(root, "README.md"), "w") as f:
            f.write("# Top\n[ok](docs/p.md#a-b) [gone](docs/none.md) [bad](docs/p.md#nope) `[code](x.md)`\n")
        with open(os.path.join(root, "docs", "p.md"), "w") as f:
            f.write("# P\n## A b\n[up](../README.md#top)\n")
        refs, links = check_refs(root), check_links(root)
        fake = os.path.join(root, "fake-trellis")
        with open(fake, "w") as f:
            f.write("#!/bin/sh\necho '  --port N   the port'\n")
        os.chmod(fake, 0o755)
        with open(os.path.join(root, "docs", "cli.md"), "w") as f:
            f.write("nothing\n")
        with open(os.path.join(root, "docs", "configuration.md"), "w") as f:
            f.write("| `--port-range` | |\n")
        cli = check_cli(root, fake)
    expected_links = ["README.md: link to 'docs/none.md': no such file",
                      "README.md: link to 'docs/p.md#nope': no heading '#nope' in docs/p.md"]
    ok = (len(refs) == 1 and "src/a.cpp:1" in refs[0] and links == expected_links
          and len(cli) == 6 and "`--port` is missing" in cli[-1])
    print("refs:", refs)
    print("links:", links)
    print("cli:", cli)
    print("selftest " + ("passed" if ok else "FAILED"))
    return 0 if ok else 1


def main():
    if len(sys.argv) == 2 and sys.argv[1] == "selftest":
        return selftest()
    if len(sys.argv) == 4 and sys.argv[1] == "cli":
        problems = check_cli(os.path.abspath(sys.argv[2]), sys.argv[3])
        for p in problems:
            print(p)
        print(f"{len(problems)} problem(s)")
        return 1 if problems else 0
    if len(sys.argv) != 3 or sys.argv[1] not in ("refs", "links"):
        print(__doc__)
        return 2
    root = os.path.abspath(sys.argv[2])
    problems = check_refs(root) if sys.argv[1] == "refs" else check_links(root)
    for p in problems:
        print(p)
    print(f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
