"""Build the Odoo the harness runs from a source the user names: ``ODOO_SOURCE``.

``ODOO_SOURCE`` is one of
- an archive of an Odoo source tree (``.tar.gz``, ``.tgz``, ``.tar.xz``, ``.tar.bz2``,
  ``.zip``): Odoo's own source archives, a GitHub archive of a branch, the trimmed archives
  CI uses;
- a checkout: a directory holding ``odoo-bin`` (used in place, never copied or changed);
- an ``http(s)://`` URL of such an archive (downloaded once into the cache: the only
  download this script makes is the one the user names);
- a directory of archives named ``odoo-<series>-*.tar.*`` (or ``.zip``), of which
  ``ODOO_VERSION`` (``18.0``, ``19.0``) picks one.

``ODOO_VERSION``, when set, is also checked against the source's ``odoo/release.py``.

An archive is unpacked into ``.omni/odoo/src-<sha256>/`` and a virtualenv with Odoo's
``requirements.txt`` (adjusted for Python 3.11, see ``_odoo_requirements``), the project's
``requirements-test.txt`` and OCA ``queue_job`` of the same series (a wheel from PyPI,
installed with ``--no-deps`` as OCA documents) is built in ``.omni/odoo/venv-<digest>/``,
the digest covering those requirement files, the series and the interpreter. Both are
reused while their digest is unchanged; a half-built one (no ``ready`` file) is rebuilt.

Standard library only. Used by ``tools/omnictl.py`` (and the bench scripts through it).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.request
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CACHE = REPO / ".omni" / "odoo"
TEST_REQUIREMENTS = REPO / "requirements-test.txt"
SUPPORTED_SERIES = ("18.0", "19.0")
# OCA addons the tests install beside the addon: PyPI wheels of the same series. queue_job
# 18.0.3.1.3 and later import ``odoo.tests.common.SETATTR_SOURCES`` in their test helpers, which
# 18.0 gained after the nightly of 2025-04-21 (the archive of ../shared/odoo): 18.0 takes the
# last release before.
OCA_TEST_ADDONS = {
    "18.0": ("odoo-addon-queue-job>=18.0,<18.0.3.1.3",),
    "19.0": ("odoo-addon-queue-job==19.0.*",),
}
# The requirements of installed distributions, except Odoo and Odoo addons (argv: their specs).
OCA_REQUIREMENTS = (
    "import importlib.metadata as m, re, sys\n"
    "for spec in sys.argv[1:]:\n"
    "    name = re.split(r'[=<>!~; ]', spec, maxsplit=1)[0]\n"
    "    for req in m.requires(name) or ():\n"
    "        if not re.match(r'odoo([-_]|\\b)', req, re.I):\n"
    "            print(req.replace(' ', ''))\n"
)
ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".tar.xz", ".txz", ".tar.bz2", ".zip")
RELEASE_VERSION = re.compile(r"^version_info\s*=\s*\(\s*(?:'saas~)?(\d+)[',]\s*(\d+)", re.M)


class SourceError(Exception):
    """ODOO_SOURCE cannot give an Odoo: the message says what to set or fix."""


def say(message: str) -> None:
    print(f"[odoo-source] {message}", flush=True)


def how_to_get_odoo() -> str:
    return (
        "Set ODOO_SOURCE to an Odoo 18.0 or 19.0 source (the harness builds an interpreter "
        "with its requirements into .omni/odoo/ and reuses it), one of:\n"
        "  ODOO_SOURCE=/path/to/odoo-18.0-source.tar.gz   (an archive of Odoo's source tree)\n"
        "  ODOO_SOURCE=/path/to/odoo                      (a checkout holding odoo-bin)\n"
        "  ODOO_SOURCE=https://.../odoo-18.0.tar.gz        (a URL of such an archive)\n"
        "  ODOO_SOURCE=/dir/of/archives ODOO_VERSION=19.0 (picks odoo-19.0-*.tar.*)\n"
        "or point ODOO_HOME at an Odoo source tree and PYTHON at an interpreter that has its "
        "requirements."
    )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def series_of(tree: Path) -> str:
    """``18.0`` from ``odoo/release.py`` of a source tree."""
    release = tree / "odoo" / "release.py"
    try:
        match = RELEASE_VERSION.search(release.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SourceError(f"{tree} is not an Odoo source tree (no {release})") from exc
    if not match:
        raise SourceError(f"cannot read Odoo's version from {release}")
    return f"{match[1]}.{match[2]}"


def _pick_from_directory(directory: Path, wanted: str | None) -> Path:
    archives = sorted(
        p for p in directory.iterdir() if p.is_file() and p.name.endswith(ARCHIVE_SUFFIXES)
    )
    series = wanted or SUPPORTED_SERIES[0]
    matching = [p for p in archives if p.name.startswith(f"odoo-{series}-")]
    if not matching:
        names = ", ".join(p.name for p in archives) or "none"
        raise SourceError(
            f"ODOO_SOURCE={directory} holds no archive odoo-{series}-*.tar.* (found: {names})"
        )
    return matching[-1]


def _download(url: str) -> Path:
    name = url.rstrip("/").rsplit("/", 1)[-1].split("?", 1)[0] or "odoo.tar.gz"
    if not name.endswith(ARCHIVE_SUFFIXES):
        name += ".tar.gz"
    target = CACHE / "downloads" / hashlib.sha256(url.encode()).hexdigest()[:16] / name
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    say(f"downloading {url} (ODOO_SOURCE) into {target.parent}")
    partial = target.with_suffix(target.suffix + ".part")
    try:
        with urllib.request.urlopen(url, timeout=60) as response, partial.open("wb") as out:  # noqa: S310 - the user's URL
            shutil.copyfileobj(response, out, 1 << 20)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise SourceError(
            f"ODOO_SOURCE={url} could not be downloaded ({exc}).\n{how_to_get_odoo()}"
        ) from exc
    partial.replace(target)
    return target


def _unpack(archive: Path, dest: Path) -> Path:
    """Unpack ``archive`` into ``dest``; return the source tree (the folder with odoo-bin)."""
    if archive.name.endswith(".zip"):
        with zipfile.ZipFile(archive) as handle:
            for name in handle.namelist():
                if not str((dest / name).resolve()).startswith(str(dest.resolve())):
                    raise SourceError(f"refusing archive member {name!r} outside the tree")
            handle.extractall(dest)
    else:
        # GNU tar: fast on xz and on hard links (Python's tarfile decompresses an xz stream
        # again for each link), and it refuses members with ".." or an absolute path.
        result = subprocess.run(
            ["tar", "-xf", str(archive), "-C", str(dest), "--no-same-owner"],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode:
            raise SourceError(f"tar -xf {archive} failed: {result.stderr.strip()[-500:]}")
    if (dest / "odoo-bin").is_file():
        return dest
    tops = [p for p in dest.iterdir() if p.is_dir()]
    if len(tops) == 1 and (tops[0] / "odoo-bin").is_file():
        return tops[0]
    raise SourceError(f"{archive} holds no Odoo source tree (no odoo-bin at its top)")


def source_tree(source: str, wanted: str | None) -> Path:
    """The Odoo source tree for ``ODOO_SOURCE``: a checkout in place, or an unpacked
    archive in the cache."""
    if re.match(r"^https?://", source):
        archive = _download(source)
    else:
        path = Path(source).expanduser().resolve()
        if not path.exists():
            raise SourceError(f"ODOO_SOURCE={source} does not exist.\n{how_to_get_odoo()}")
        if path.is_dir() and (path / "odoo-bin").is_file():
            return path
        archive = _pick_from_directory(path, wanted) if path.is_dir() else path
    if not archive.name.endswith(ARCHIVE_SUFFIXES):
        raise SourceError(
            f"ODOO_SOURCE={source}: not an archive ({', '.join(ARCHIVE_SUFFIXES)}), a checkout "
            "holding odoo-bin, a URL or a directory of archives"
        )
    target = CACHE / f"src-{_sha256(archive)[:16]}"
    ready = target / "ready"
    if ready.is_file():
        return Path(ready.read_text().strip())
    shutil.rmtree(target, ignore_errors=True)
    CACHE.mkdir(parents=True, exist_ok=True)
    say(f"unpacking {archive} into {target}")
    scratch = Path(tempfile.mkdtemp(prefix="unpack-", dir=CACHE))
    try:
        tree = _unpack(archive, scratch)
        scratch.rename(target)
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    tree = target / tree.relative_to(scratch)
    ready.write_text(f"{tree}\n")
    return tree


def is_unpacked(path: Path) -> bool:
    """``path`` lies in a tree this module unpacked from an archive (``src-<sha256>/`` with its
    ``ready`` marker), not in a checkout or a tree the user pointed at."""
    return any(
        parent.name.startswith("src-") and (parent / "ready").is_file()
        for parent in Path(path).resolve().parents
    )


def _odoo_requirements(tree: Path) -> str:
    """Odoo's requirements.txt as pip can install it on this interpreter.

    - ``cbor2==5.4.2`` has no build for Python 3.11 here: 5.4.6 (same API) replaces it;
    - ``python-ldap`` needs OpenLDAP headers and only serves ``auth_ldap``: left out.
    """
    lines = []
    for line in (tree / "requirements.txt").read_text(encoding="utf-8").splitlines():
        name = re.split(r"[=<>~!; \[]", line.strip(), maxsplit=1)[0].lower()
        if name == "python-ldap":
            continue
        lines.append(line.replace("5.4.2", "5.4.6") if name == "cbor2" else line)
    return "\n".join(lines) + "\n"


def _pip(python: Path, *args: str, log: Path) -> None:
    cmd = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", *args]
    if os.geteuid() == 0:
        cmd.append("--root-user-action=ignore")
    with log.open("a") as out:
        out.write(f"$ {' '.join(cmd)}\n")
        out.flush()
        rc = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, check=False).returncode
    if rc:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-25:])
        raise SourceError(f"pip install {' '.join(args)} failed (exit code {rc}):\n{tail}")


def interpreter(tree: Path, series: str) -> Path:
    """A virtualenv's python with Odoo's requirements for ``tree``, the project's test
    requirements and the OCA test addons of ``series``; built once per digest."""
    requirements = _odoo_requirements(tree)
    digest = hashlib.sha256()
    for part in (
        requirements,
        TEST_REQUIREMENTS.read_text(encoding="utf-8"),
        series,
        *OCA_TEST_ADDONS[series],
        sys.version,
        sys.executable,
    ):
        digest.update(part.encode() + b"\0")
    venv = CACHE / f"venv-{series}-{digest.hexdigest()[:16]}"
    python = venv / "bin" / "python"
    ready = venv / "ready"
    if ready.is_file() and python.is_file():
        return python
    shutil.rmtree(venv, ignore_errors=True)
    CACHE.mkdir(parents=True, exist_ok=True)
    log = CACHE / f"{venv.name}.log"
    log.write_text("")
    say(f"building {venv} with Odoo {series}'s requirements (log: {log})")
    rc = subprocess.run(
        [sys.executable, "-m", "venv", str(venv)], capture_output=True, text=True, check=False
    )
    if rc.returncode:
        raise SourceError(f"python -m venv failed: {rc.stderr.strip()}")
    # Several of Odoo's pinned sdists still import pkg_resources in their setup.py.
    _pip(python, "setuptools<70", "wheel", log=log)
    pinned = venv / "odoo-requirements.txt"
    pinned.write_text(requirements)
    _pip(python, "--no-build-isolation", "-r", str(pinned), log=log)
    _pip(python, "-r", str(TEST_REQUIREMENTS), log=log)
    # --no-deps (their Odoo is the tree's, not a package), then their other requirements.
    _pip(python, "--no-deps", *OCA_TEST_ADDONS[series], log=log)
    requires = subprocess.run(
        [python, "-c", OCA_REQUIREMENTS, *OCA_TEST_ADDONS[series]],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    if requires:
        _pip(python, *requires, log=log)
    ready.write_text(f"{tree}\n")
    return python


def provision(source: str, wanted: str | None = None) -> tuple[Path, Path, str]:
    """``(tree, python, series)`` for ``ODOO_SOURCE=source``; raise SourceError."""
    if wanted and wanted not in SUPPORTED_SERIES:
        raise SourceError(
            f"ODOO_VERSION={wanted} is not supported (supported: {', '.join(SUPPORTED_SERIES)})"
        )
    tree = source_tree(source, wanted)
    series = series_of(tree)
    if wanted and series != wanted:
        raise SourceError(f"ODOO_SOURCE={source} is Odoo {series}, not ODOO_VERSION={wanted}")
    if series not in SUPPORTED_SERIES:
        raise SourceError(
            f"ODOO_SOURCE={source} is Odoo {series}; supported: {', '.join(SUPPORTED_SERIES)}"
        )
    return tree, interpreter(tree, series), series
