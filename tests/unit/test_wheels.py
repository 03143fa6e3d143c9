"""tools/build_wheels.py: the addon as an OCA-style wheel (whool) for each Odoo series."""

import email.parser
import importlib.util
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TOOL = REPO / "tools" / "build_wheels.py"


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


@pytest.mark.parametrize("series", ["18.0", "19.0"])
def test_one_wheel_per_addon_and_series(wheels, series):
    tracked = subprocess.run(
        ["git", "ls-files", "omni_payment_methods"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    [wheel] = wheels[series]
    assert wheel.name == f"odoo_addon_omni_payment_methods-{series}.1.0.1-py3-none-any.whl"
    metadata, names = _metadata(wheel)
    assert metadata["Name"] == "odoo-addon-omni_payment_methods"
    assert metadata["Version"] == f"{series}.1.0.1"
    assert sorted(metadata.get_all("Requires-Dist")) == [f"odoo=={series}.*", "stripe"]
    assert f"Framework :: Odoo :: {series}" in metadata.get_all("Classifier")
    # Every tracked file of the addon (whool leaves out its build file), where Odoo looks
    # for addons in site-packages.
    assert sorted(n for n in names if n.startswith("odoo/addons/")) == sorted(
        f"odoo/addons/{name}" for name in tracked if not name.endswith("/pyproject.toml")
    )
    with zipfile.ZipFile(wheel) as archive:
        manifest = archive.read("odoo/addons/omni_payment_methods/__manifest__.py").decode()
    assert f'"version": "{series}.1.0.1"' in manifest


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
