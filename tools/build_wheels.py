#!/usr/bin/env python3
# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Build the addons as Python wheels, the OCA way (whool), one per Odoo series.

    python tools/build_wheels.py [--series 18.0,19.0] [--dist dist/]

Each addon folder of the repository (a folder holding ``__manifest__.py`` and
``pyproject.toml``; an addon without ``pyproject.toml`` is skipped, with a warning, and
tests/unit/test_wheels.py fails) builds as ``odoo-addon-<name>``. One code base serves 18.0
and 19.0: the manifest's version has no series (Odoo reads ``1.0.1`` as
``<series>.1.0.1``), so each wheel is built from a copy of the addon's tracked files whose
manifest carries the series-prefixed version, the one Odoo shows once installed. The wheel
of each series thus has its own version (``18.0.1.0.1``, ``19.0.1.0.1``) and requires the
Odoo of its series.

Building needs pip to reach an index for ``whool`` (build isolation), as OCA's builds do.
Integrators install a wheel into Odoo's interpreter (``pip install <wheel>``); Odoo finds the
addon under ``odoo/addons`` of site-packages without touching its addons path.
"""

import argparse
import ast
import re
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SERIES = ("18.0", "19.0")
VERSION_LINE = re.compile(r'^(\s*"version":\s*)"([^"]+)"', re.M)


def addons() -> list[Path]:
    """The addons that build: those with a pyproject.toml (the others are named on stderr)."""
    found = sorted(path.parent for path in REPO.glob("*/__manifest__.py"))
    for addon in found:
        if not (addon / "pyproject.toml").is_file():
            print(f"{addon.name}: no pyproject.toml, no wheel", file=sys.stderr)
    return [addon for addon in found if (addon / "pyproject.toml").is_file()]


def tracked_files(addon: Path) -> list[str]:
    out = subprocess.run(
        ["git", "ls-files", "-z", "--", addon.name],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout
    return [name for name in out.decode().split("\0") if name]


def series_copy(addon: Path, series: str, into: Path) -> Path:
    """The addon's tracked files in ``into/<name>``, its manifest's version prefixed with
    ``series`` (unless it has one already)."""
    for name in tracked_files(addon):
        target = into / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes((REPO / name).read_bytes())
    copy = into / addon.name
    manifest = copy / "__manifest__.py"
    text = manifest.read_text(encoding="utf-8")
    version = ast.literal_eval(text)["version"]
    if not version.startswith(f"{series}."):
        if re.match(r"^\d+\.\d+\.\d+\.\d+\.\d+$", version):
            raise SystemExit(f"{addon.name}: version {version} belongs to another series")
        text, count = VERSION_LINE.subn(rf'\1"{series}.{version}"', text, count=1)
        if count != 1:
            raise SystemExit(f"{addon.name}: no version line to prefix in {manifest}")
        manifest.write_text(text, encoding="utf-8")
    # The series now comes from the version: an override for direct builds would win.
    pyproject = copy / "pyproject.toml"
    pyproject.write_text(
        "".join(
            line
            for line in pyproject.read_text(encoding="utf-8").splitlines(keepends=True)
            if not line.strip().startswith("odoo_series_override")
        ),
        encoding="utf-8",
    )
    return copy


def build(addon: Path, series: str, dist: Path) -> Path:
    dist.mkdir(parents=True, exist_ok=True)
    before = set(dist.glob("*.whl"))
    with tempfile.TemporaryDirectory(prefix="wheel-") as scratch:
        copy = series_copy(addon, series, Path(scratch))
        subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", dist, copy],
            check=True,
        )
    built = set(dist.glob("*.whl")) - before
    if len(built) != 1:
        raise SystemExit(f"{addon.name} {series}: expected one new wheel in {dist}")
    return built.pop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--series", default=",".join(SERIES), help="comma separated")
    parser.add_argument("--dist", type=Path, default=REPO / "dist")
    args = parser.parse_args(argv)
    wanted = [s.strip() for s in args.series.split(",") if s.strip()]
    unknown = [s for s in wanted if s not in SERIES]
    if unknown:
        parser.error(f"unsupported series {', '.join(unknown)} (supported: {', '.join(SERIES)})")
    for series in wanted:
        for addon in addons():
            wheel = build(addon, series, args.dist.resolve() / series)
            print(f"{series}: {wheel.relative_to(REPO) if wheel.is_relative_to(REPO) else wheel}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
