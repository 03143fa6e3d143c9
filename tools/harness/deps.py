"""``make deps``: pip install -r requirements-test.txt into the interpreter in use and npm
ci, each skipped when already satisfied (so that every command can run it first)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

from .common import REPO, HarnessError, display, say

REQUIREMENTS = REPO / "requirements-test.txt"
PACKAGE_LOCK = REPO / "package-lock.json"
NODE_MODULES = REPO / "node_modules"
PRETTIER = NODE_MODULES / ".bin" / "prettier"


def _requirement_lines() -> list[str]:
    lines = []
    for raw in REQUIREMENTS.read_text().splitlines():
        line = raw.split(" #", 1)[0].strip()
        if line and not line.startswith(("#", "-")):
            lines.append(line)
    return lines


def requirements_satisfied() -> bool:
    try:
        from importlib import metadata  # noqa: PLC0415

        try:
            from packaging.requirements import Requirement  # noqa: PLC0415
        except ImportError:
            from pip._vendor.packaging.requirements import Requirement  # noqa: PLC0415
    except ImportError:
        return False
    for line in _requirement_lines():
        try:
            req = Requirement(line)
        except Exception:  # noqa: BLE001 - let pip judge what we cannot parse
            return False
        if req.marker and not req.marker.evaluate():
            continue
        try:
            version = metadata.version(req.name)
        except metadata.PackageNotFoundError:
            return False
        if req.specifier and not req.specifier.contains(version, prereleases=True):
            return False
    return True


def cmd_deps(_args=None) -> int:
    pip_deps()
    npm_deps()
    return 0


def pip_deps() -> None:
    if requirements_satisfied():
        say(f"deps: {REQUIREMENTS.name} already satisfied for {sys.executable}")
        return
    say(f"deps: pip install -r {REQUIREMENTS.name} into {sys.executable}")
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "-q",
        "--disable-pip-version-check",
        "-r",
        str(REQUIREMENTS),
    ]
    if os.geteuid() == 0:
        cmd.append("--root-user-action=ignore")
    rc = subprocess.run(cmd, check=False).returncode
    if rc:
        raise HarnessError(f"pip install -r {REQUIREMENTS} failed (exit code {rc})")


def npm_installed() -> bool:
    """node_modules holds what package-lock.json pins: the same version of every package as
    npm's record of what it installed (node_modules/.package-lock.json). By content, not by
    date: a fresh checkout's lock file is newer than a node_modules that matches it."""
    installed = NODE_MODULES / ".package-lock.json"  # written by npm ci / npm install
    if not PRETTIER.exists() or not installed.is_file():
        return False
    try:
        wanted = json.loads(PACKAGE_LOCK.read_text())["packages"]
        present = json.loads(installed.read_text())["packages"]
    except (OSError, ValueError, KeyError):
        return False
    return all(
        present.get(path, {}).get("version") == entry.get("version")
        for path, entry in wanted.items()
        if path  # "" is the project itself
    )


def npm_deps() -> None:
    """``npm ci`` (prettier and its XML plugin, package-lock.json) unless node_modules already
    holds what the lock file pins. npm ci empties node_modules first: a node_modules that is a
    symbolic link (a worktree sharing another checkout's) is never reinstalled through."""
    if npm_installed():
        say(f"deps: {PACKAGE_LOCK.name} already installed in {display(NODE_MODULES)}")
        return
    if NODE_MODULES.is_symlink():
        raise HarnessError(
            f"{display(NODE_MODULES)} is a link to {NODE_MODULES.resolve()}, which does not hold "
            f"what {PACKAGE_LOCK.name} pins: run `npm ci` there, or remove the link"
        )
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        raise HarnessError(
            "npm and node not found: the XML linter (prettier) needs Node.js 18 or newer "
            "(Debian packages nodejs and npm)"
        )
    say(f"deps: npm ci ({PACKAGE_LOCK.name} into {display(NODE_MODULES)})")
    cmd = [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"]
    rc = subprocess.run(cmd, cwd=REPO, stdin=subprocess.DEVNULL, check=False).returncode
    if rc:
        raise HarnessError(f"npm ci failed (exit code {rc})")
