"""tools/build_wheels.py: each addon as an OCA-style wheel (whool) for each Odoo series."""

import ast
import email.parser
import importlib.util
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TOOL = REPO / "tools" / "build_wheels.py"
# our addons: the folders holding a __manifest__.py
ADDONS = sorted(path.parent.name for path in REPO.glob("*/__manifest__.py"))
# the modules outside Odoo that our addons depend on (OCA's), required as wheels
OCA_DEPENDS = {"queue_job"}


def _manifest(addon: str) -> dict:
    return ast.literal_eval((REPO / addon / "__manifest__.py").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def build_wheels():
    spec = importlib.util.spec_from_file_location("build_wheels_under_test", TOOL)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def wheels(tmp_path_factory, build_wheels):
    dist = tmp_path_factory.mktemp("dist")
    assert build_wheels.main(["--dist", str(dist)]) == 0
    return {series: sorted((dist / series).glob("*.whl")) for series in build_wheels.SERIES}


def _metadata(wheel: Path):
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        return email.parser.Parser().parsestr(archive.read(name).decode()), archive.namelist()


def test_every_addon_has_a_pyproject():
    assert [a for a in ADDONS if not (REPO / a / "pyproject.toml").is_file()] == []


@pytest.mark.parametrize("series", ["18.0", "19.0"])
@pytest.mark.parametrize("addon", ADDONS)
def test_one_wheel_per_addon_and_series(wheels, addon, series):
    tracked = subprocess.run(
        ["git", "ls-files", addon], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.split()
    manifest = _manifest(addon)
    version = f"{series}.{manifest['version']}"
    [wheel] = [w for w in wheels[series] if w.name.startswith(f"odoo_addon_{addon}-")]
    assert wheel.name == f"odoo_addon_{addon}-{version}-py3-none-any.whl"
    metadata, names = _metadata(wheel)
    assert metadata["Name"] == f"odoo-addon-{addon}"
    assert metadata["Version"] == version
    # Odoo of the series, the addons of ours (and OCA's) it depends on, its Python libraries
    addon_depends = [d for d in manifest["depends"] if d in ADDONS or d in OCA_DEPENDS]
    assert sorted(metadata.get_all("Requires-Dist")) == sorted(
        [
            f"odoo=={series}.*",
            *(f"odoo-addon-{dep}=={series}.*" for dep in addon_depends),
            *manifest.get("external_dependencies", {}).get("python", []),
        ]
    )
    assert f"Framework :: Odoo :: {series}" in metadata.get_all("Classifier")
    # Every tracked file of the addon (whool leaves out its build file), where Odoo looks
    # for addons in site-packages.
    assert sorted(n for n in names if n.startswith("odoo/addons/")) == sorted(
        f"odoo/addons/{name}" for name in tracked if not name.endswith("/pyproject.toml")
    )
    with zipfile.ZipFile(wheel) as archive:
        built_manifest = archive.read(f"odoo/addons/{addon}/__manifest__.py").decode()
    assert f'"version": "{version}"' in built_manifest


def test_one_wheel_per_series_and_nothing_else(wheels):
    built = {
        series: sorted(w.name.split("-")[0] for w in found) for series, found in wheels.items()
    }
    assert built == {series: [f"odoo_addon_{a}" for a in ADDONS] for series in wheels}


def test_version_of_another_series_is_refused(build_wheels, tmp_path, monkeypatch):
    addon = tmp_path / "repo" / "some_addon"
    addon.mkdir(parents=True)
    (addon / "__manifest__.py").write_text('{"name": "X", "version": "17.0.1.0.0"}\n')
    (addon / "pyproject.toml").write_text('[build-system]\nrequires = ["whool"]\n')
    monkeypatch.setattr(build_wheels, "REPO", tmp_path / "repo")
    monkeypatch.setattr(
        build_wheels,
        "tracked_files",
        lambda a: ["some_addon/__manifest__.py", "some_addon/pyproject.toml"],
    )
    with pytest.raises(SystemExit, match="belongs to another series"):
        build_wheels.series_copy(addon, "18.0", tmp_path / "out")
