"""`make deps` judges node_modules by what it holds, not by file dates."""

import importlib
import json
import os
import sys
from pathlib import Path

TOOLS = Path(__file__).resolve().parents[2] / "tools"


def _deps(tmp_path, monkeypatch, installed_version):
    if str(TOOLS) not in sys.path:
        sys.path.insert(0, str(TOOLS))
    deps = importlib.import_module("harness.deps")
    modules = tmp_path / "node_modules"
    (modules / ".bin").mkdir(parents=True)
    (modules / ".bin" / "prettier").write_text("")
    packages = {"node_modules/prettier": {"version": "3.10.1"}}
    lock = tmp_path / "package-lock.json"
    lock.write_text(json.dumps({"packages": {"": {"name": "x"}, **packages}}))
    hidden = modules / ".package-lock.json"
    hidden.write_text(
        json.dumps({"packages": {"node_modules/prettier": {"version": installed_version}}})
    )
    # the checkout's lock file is newer than the install (a fresh worktree)
    os.utime(hidden, (1_000_000, 1_000_000))
    monkeypatch.setattr(deps, "PACKAGE_LOCK", lock)
    monkeypatch.setattr(deps, "NODE_MODULES", modules)
    monkeypatch.setattr(deps, "PRETTIER", modules / ".bin" / "prettier")
    return deps


def test_node_modules_matching_an_older_lock_file_is_installed(tmp_path, monkeypatch):
    assert _deps(tmp_path, monkeypatch, "3.10.1").npm_installed()


def test_node_modules_with_another_version_is_not(tmp_path, monkeypatch):
    assert not _deps(tmp_path, monkeypatch, "3.9.0").npm_installed()
