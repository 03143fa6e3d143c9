#!/usr/bin/env python3
"""Print the repository's addons: each with its dependencies, its files with their line
counts, and which addons its Python code imports (``odoo.addons.<name>``).

    python3 tools/module_report.py [--files] [--imports]

``--files`` lists every file with its lines; ``--imports`` lists, for each Python file, the
files of the repository it imports (relative imports and ``odoo.addons.<ours>``).

Reads the manifests and sources only (no Odoo needed).
"""

import argparse
import ast
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
IMPORT_RE = re.compile(r"^\s*(?:from|import)\s+odoo\.addons\.(\w+)", re.M)
SOURCES = (".py", ".xml", ".csv", ".js")


def addons():
    return sorted(path.parent for path in REPO.glob("*/__manifest__.py"))


def lines(path):
    return sum(1 for _line in path.open(encoding="utf-8"))


def module_file(dotted):
    """The file of the repository for a dotted module path (``omni_x.models.y``), or None."""
    base = REPO.joinpath(*dotted.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def imports_of(path):
    """The files of the repository that Python file ``path`` imports."""
    package = ".".join(path.relative_to(REPO).parent.parts)
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.ImportFrom):
            continue
        if node.level:
            parts = package.split(".")
            base = ".".join(parts[: len(parts) - node.level + 1])
            dotted = f"{base}.{node.module}" if node.module else base
        elif (node.module or "").startswith("odoo.addons."):
            dotted = node.module.removeprefix("odoo.addons.")
        else:
            continue
        for alias in node.names:
            # ``from package import module`` names a file; ``from module import name`` not
            file = module_file(f"{dotted}.{alias.name}") or module_file(dotted)
            if file and file != path:
                found.add(file)
    return sorted(found)


def report_imports():
    for path in addons():
        for file in sorted(path.rglob("*.py")):
            used = imports_of(file)
            if used:
                names = ", ".join(str(u.relative_to(REPO)) for u in used)
                print(f"{file.relative_to(REPO)} -> {names}")
    return 0


def report(show_files):
    ours = {path.name for path in addons()}
    for path in addons():
        manifest = ast.literal_eval((path / "__manifest__.py").read_text(encoding="utf-8"))
        files = sorted(
            f for f in path.rglob("*") if f.suffix in SOURCES and "/static/lib/" not in str(f)
        )
        code = [f for f in files if "tests" not in f.relative_to(path).parts]
        tests = [f for f in files if "tests" in f.relative_to(path).parts]
        imported = {}
        for file in (f for f in files if f.suffix == ".py"):
            for name in IMPORT_RE.findall(file.read_text(encoding="utf-8")):
                if name in ours and name != path.name:
                    part = "tests" if file in tests else "code"
                    imported.setdefault(name, set()).add(part)
        auto = " (auto_install)" if manifest.get("auto_install") else ""
        print(f"{path.name} {manifest['version']}{auto}")
        print(f"  depends: {', '.join(manifest.get('depends', []))}")
        print(
            f"  files: {len(code)} ({sum(map(lines, code))} lines), tests: {len(tests)} "
            f"({sum(map(lines, tests))} lines)"
        )
        largest = max(code, key=lines, default=None)
        if largest:
            print(f"  largest: {largest.relative_to(REPO)} ({lines(largest)} lines)")
        uses = [f"{name} ({'+'.join(sorted(parts))})" for name, parts in sorted(imported.items())]
        print(f"  imports from: {', '.join(uses) or 'no other addon of the repository'}")
        if show_files:
            for file in code + tests:
                print(f"    {lines(file):5d}  {file.relative_to(REPO)}")
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", action="store_true", help="list every file with its lines")
    parser.add_argument(
        "--imports", action="store_true", help="list the repository's files each file imports"
    )
    args = parser.parse_args(argv)
    if args.imports:
        return report_imports()
    return report(args.files)


if __name__ == "__main__":
    sys.exit(main())
