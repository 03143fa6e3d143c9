"""Which Odoo the commands use: ``ODOO_HOME`` or the interpreter's ``odoo`` package (with
``ODOO_SOURCE``, tools/odoo_source.py builds the tree and this command runs again under its
interpreter), its addons directories, and the optional modules (OCA queue_job) that can be
installed from it. The project's own: it checks the series the addon supports and the
trimmed source archives of CI, which no ecosystem tool knows about."""

from __future__ import annotations

import ast
import dataclasses
import importlib.util
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import odoo_source  # tools/odoo_source.py (tools/ is on sys.path: see tools/omnictl.py)

from .common import REPO, HarnessError, addon_names, display, manifest, say

OMNICTL = REPO / "tools" / "omnictl.py"
# Odoo's major versions the addon installs on (tools/odoo_source.py SUPPORTED_SERIES)
SUPPORTED_MAJORS = tuple(int(series.split(".")[0]) for series in odoo_source.SUPPORTED_SERIES)
OPTIONAL_MODULES = ("queue_job",)  # tested with the addon when on the addons path


@dataclasses.dataclass
class Odoo:
    version: str
    command: list[str]  # how to run odoo-bin
    addons_path: list[Path]
    pythonpath: str | None  # ODOO_HOME, prepended to PYTHONPATH
    origin: str

    def env(self, base: dict | None = None) -> dict:
        env = dict(os.environ if base is None else base)
        if self.pythonpath:
            parts = [self.pythonpath] + [p for p in env.get("PYTHONPATH", "").split(":") if p]
            env["PYTHONPATH"] = ":".join(parts)
        env["TZ"] = "UTC"  # as odoo-bin sets it; Odoo's tests assume it
        return env

    def addons_path_str(self, ours: Path = REPO) -> str:
        """Odoo's addons directories and ``ours`` (the repository, or an exported older
        tree: then first, so that nothing else can shadow its addons)."""
        if ours == REPO:
            return ",".join(str(p) for p in [*self.addons_path, REPO])
        return ",".join(str(p) for p in [ours, *self.addons_path])


PROBE = (
    "import json, sys, odoo, odoo.addons, odoo.release as r; "
    "print(json.dumps({'version': r.version, 'major': r.version_info[0], "
    "'file': r.__file__, 'addons': list(odoo.addons.__path__)}))"
)


def _probe_odoo(env: dict) -> tuple[dict | None, str]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        env=env,
        cwd=tempfile.gettempdir(),  # not the repo: no accidental `odoo` from the cwd
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode:
        return None, (result.stderr or result.stdout).strip()
    try:
        return json.loads(result.stdout.strip().splitlines()[-1]), ""
    except (ValueError, IndexError):
        return None, result.stdout


def _addon_dirs(candidates: list[Path]) -> list[Path]:
    dirs = []
    for path in candidates:
        if path.is_dir() and any(path.glob("*/__manifest__.py")) and path not in dirs:
            dirs.append(path)
    return dirs


def extra_addons_dirs() -> list[Path]:
    """ODOO_EXTRA_ADDONS: more addons directories (comma or colon separated), e.g. a checkout
    of OCA/queue for queue_job."""
    raw = os.environ.get("ODOO_EXTRA_ADDONS", "")
    paths = [Path(p).expanduser().resolve() for p in re.split(r"[,:]", raw) if p.strip()]
    for path in paths:
        if not path.is_dir():
            raise HarnessError(f"ODOO_EXTRA_ADDONS: {path} is not a directory")
    return _addon_dirs(paths)


def missing_module_files(odoo: Odoo, name: str, seen: set | None = None) -> list[str]:
    """What keeps module ``name`` from installing here: modules absent from the addons path
    and data files its manifest (or a dependency's) lists that are not there. Trimmed Odoo
    trees keep some addons by manifest and Python files only."""
    seen = set() if seen is None else seen
    if name in seen:
        return []
    seen.add(name)
    root = next(
        (p / name for p in odoo.addons_path if (p / name / "__manifest__.py").is_file()), None
    )
    if root is None:
        return [f"module {name}"]
    manifest = ast.literal_eval((root / "__manifest__.py").read_text(encoding="utf-8"))
    missing = [
        f"{name}/{data}"
        for key in ("data", "demo")
        for data in manifest.get(key, [])
        if not (root / data).is_file()
    ]
    for dependency in manifest.get("depends", []):
        missing += missing_module_files(odoo, dependency, seen)
    return missing


def optional_modules(odoo: Odoo) -> dict[str, list[str]]:
    """Modules the addon works with when they are present (tested then): OCA queue_job.
    ``{name: what is missing to install it}``, empty when it installs."""
    found = {}
    for name in OPTIONAL_MODULES:
        if any((p / name / "__manifest__.py").is_file() for p in odoo.addons_path):
            found[name] = missing_module_files(odoo, name)
            if found[name] and stand_in_data_files(odoo, name, found[name]):
                found[name] = missing_module_files(odoo, name)
    return found


def installable_addons(odoo: Odoo, root: Path = REPO) -> tuple[list[str], dict[str, str]]:
    """Our addons (at ``root``) that install in this Odoo: each module of their ``depends``
    is one of ours that installs, or on the addons path (and, for the optional modules such
    as queue_job, installable: see ``optional_modules``). Returns the installable ones
    (sorted) and, for the others, what keeps them out."""
    found = optional_modules(odoo)
    names = addon_names(root)
    available = {
        dep: any((p / dep / "__manifest__.py").is_file() for p in odoo.addons_path)
        and not found.get(dep)
        for name in names
        for dep in manifest(name, root).get("depends", [])
        if dep not in names
    }
    excluded: dict[str, str] = {}
    changed = True
    while changed:
        changed = False
        for name in names:
            if name in excluded:
                continue
            missing = [
                dep
                for dep in manifest(name, root).get("depends", [])
                if not (available.get(dep) if dep not in names else dep not in excluded)
            ]
            if missing:
                excluded[name] = "needs " + ", ".join(missing)
                changed = True
    return [name for name in names if name not in excluded], excluded


def stand_in_data_files(odoo: Odoo, name: str, missing: list[str]) -> bool:
    """Empty stand-ins for the data files that an optional module's Odoo dependencies lack in a
    trimmed tree that ODOO_SOURCE unpacked into the cache (never in a tree the user points
    at). The trimmed archives of ../shared/odoo keep ``base_sparse_field``, which queue_job
    needs for its Python (the ``serialized`` field type), without its two data files: an
    access rule for its own test model and a field on the form of ``ir.model.fields``,
    neither of which queue_job uses. An empty file in their place lets queue_job install, so
    that its path is tested. False when something else is missing (a whole module, a file of
    ``name`` itself): nothing is written then."""
    if any(entry.startswith("module ") or entry.startswith(f"{name}/") for entry in missing):
        return False
    files = []
    for entry in missing:
        module, data = entry.split("/", 1)
        root = next(p / module for p in odoo.addons_path if (p / module).is_dir())
        if not odoo_source.is_unpacked(root):
            return False
        if not (data.endswith(".xml") or data.endswith("/ir.model.access.csv")):
            return False
        files.append(root / data)
    header = "id,name,model_id:id,group_id:id,perm_read,perm_write,perm_create,perm_unlink"
    for path in files:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("<odoo/>\n" if path.suffix == ".xml" else header + "\n")
    say(
        f"{name}: empty stand-ins for the data files the trimmed Odoo tree lacks: "
        + ", ".join(missing)
    )
    return True


def find_odoo() -> Odoo | None:
    """The Odoo that ODOO_HOME names, else the interpreter's ``odoo``, else None."""
    home = os.environ.get("ODOO_HOME", "").strip()
    if home:
        root = Path(home).expanduser().resolve()
        odoo_bin = root / "odoo-bin"
        if not odoo_bin.is_file():
            raise HarnessError(
                f"ODOO_HOME={home} has no odoo-bin: point it at an Odoo 18.0 or 19.0 tree"
            )
        env = {**os.environ, "PYTHONPATH": str(root)}
        info, error = _probe_odoo(env)
        if info is None:
            raise HarnessError(
                f"ODOO_HOME={root}, but {sys.executable} cannot import its odoo package:\n"
                f"{error[-2000:]}\n"
                f"Install Odoo's requirements into that interpreter "
                f"({sys.executable} -m pip install -r {root}/requirements.txt) or set PYTHON "
                f"to an interpreter that has them."
            )
        addons = _addon_dirs([root / "odoo" / "addons", root / "addons"])
        command = [sys.executable, str(odoo_bin)]
        origin = f"ODOO_HOME={root}"
        pythonpath = str(root)
    else:
        if importlib.util.find_spec("odoo") is None:
            return None
        info, error = _probe_odoo(dict(os.environ))
        if info is None:
            raise HarnessError(
                f"{sys.executable} has an `odoo` package that fails to import:\n{error[-2000:]}"
            )
        package = Path(info["file"]).parent
        addons = _addon_dirs([package / "addons", package.parent / "addons"])
        command = [sys.executable, "-m", "odoo"]
        origin = f"odoo package {package} ({sys.executable})"
        pythonpath = None
    if info["major"] not in SUPPORTED_MAJORS:
        raise HarnessError(
            f"{origin} is Odoo {info['version']}; this addon needs Odoo "
            f"{' or '.join(odoo_source.SUPPORTED_SERIES)}"
        )
    # OCA addons installed as wheels into the interpreter (odoo/addons of site-packages)
    addons += [p for p in _addon_dirs([Path(d) for d in info["addons"]]) if p not in addons]
    addons += extra_addons_dirs()
    if not any((p / "web" / "__manifest__.py").is_file() for p in addons):
        raise HarnessError(f"{origin}: no addons directory holding `web` found")
    if not any((p / "base" / "__manifest__.py").is_file() for p in addons):
        raise HarnessError(f"{origin}: no addons directory holding `base` found")
    return Odoo(info["version"], command, addons, pythonpath, origin)


def require_odoo() -> Odoo:
    odoo = find_odoo()
    if odoo is None:
        raise HarnessError(
            f"Odoo not found: {sys.executable} cannot import `odoo`, and neither ODOO_HOME nor "
            f"ODOO_SOURCE is set.\n{odoo_source.how_to_get_odoo()}"
        )
    say(f"Odoo {odoo.version} from {odoo.origin}")
    return odoo


def reexec_with_odoo_source(argv: list[str]) -> None:
    """With ODOO_SOURCE (and no ODOO_HOME): build or reuse the Odoo tree and interpreter it
    names (tools/odoo_source.py), then run this same command again with them."""
    source = os.environ.get("ODOO_SOURCE", "").strip()
    if not source or os.environ.get("ODOO_HOME", "").strip():
        return
    try:
        tree, python, series = odoo_source.provision(
            source, os.environ.get("ODOO_VERSION", "").strip() or None
        )
    except odoo_source.SourceError as exc:
        raise HarnessError(str(exc)) from exc
    say(f"Odoo {series} from ODOO_SOURCE={source}: {display(tree)}, {display(python)}")
    env = {**os.environ, "ODOO_HOME": str(tree), "PYTHON": str(python)}
    env.pop("ODOO_SOURCE")
    sys.stdout.flush()
    os.execve(str(python), [str(python), str(OMNICTL), *argv], env)
