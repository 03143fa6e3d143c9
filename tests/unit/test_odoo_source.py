"""tools/odoo_source.py: which Odoo ODOO_SOURCE names, and how it is unpacked."""

import importlib.util
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

TOOL = Path(__file__).resolve().parents[2] / "tools" / "odoo_source.py"


@pytest.fixture
def odoo_source(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("odoo_source_under_test", TOOL)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "CACHE", tmp_path / "cache")
    return module


def _tree(root: Path, major: int = 18) -> Path:
    (root / "odoo").mkdir(parents=True)
    (root / "odoo-bin").write_text("#!/usr/bin/env python3\n")
    (root / "odoo" / "release.py").write_text(
        f"FINAL = 'final'\nversion_info = ({major}, 0, 0, FINAL, 0, '')\n"
    )
    (root / "requirements.txt").write_text(
        "cbor2==5.4.2 ; python_version < '3.12'\n"
        "python-ldap==3.4.0 ; sys_platform != 'win32'\n"
        "requests==2.31.0\n"
    )
    return root


def _tar(tree: Path, archive: Path, prefix: str) -> Path:
    subprocess.run(
        [
            "tar",
            "-cJf",
            str(archive),
            "-C",
            str(tree.parent),
            f"--transform=s,^{tree.name},{prefix},",
            tree.name,
        ],
        check=True,
    )
    return archive


def test_series_is_read_from_release_py(odoo_source, tmp_path):
    assert odoo_source.series_of(_tree(tmp_path / "o18")) == "18.0"
    assert odoo_source.series_of(_tree(tmp_path / "o19", 19)) == "19.0"
    with pytest.raises(odoo_source.SourceError, match="not an Odoo source tree"):
        odoo_source.series_of(tmp_path)


def test_requirements_are_adjusted_for_this_python(odoo_source, tmp_path):
    text = odoo_source._odoo_requirements(_tree(tmp_path / "o"))
    assert "cbor2==5.4.6 ; python_version < '3.12'" in text
    assert "python-ldap" not in text
    assert "requests==2.31.0" in text


def test_a_checkout_is_used_in_place(odoo_source, tmp_path):
    tree = _tree(tmp_path / "checkout")
    assert odoo_source.source_tree(str(tree), None) == tree
    assert not (tmp_path / "cache").exists()


@pytest.mark.parametrize("prefix", ["odoo-18.0.post20250421", "."])
def test_an_archive_is_unpacked_once(odoo_source, tmp_path, prefix):
    archive = _tar(_tree(tmp_path / "src"), tmp_path / "odoo-18.0-x.tar.xz", prefix)
    tree = odoo_source.source_tree(str(archive), None)
    assert (tree / "odoo-bin").is_file()
    assert odoo_source.series_of(tree) == "18.0"
    (tree / "marker").write_text("kept")
    assert odoo_source.source_tree(str(archive), None) == tree  # reused, not unpacked again
    assert (tree / "marker").is_file()


def test_a_zip_with_one_top_folder(odoo_source, tmp_path):
    tree = _tree(tmp_path / "src")
    archive = tmp_path / "odoo-18.0.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        for path in tree.rglob("*"):
            handle.write(path, f"odoo-18.0/{path.relative_to(tree)}")
    assert odoo_source.series_of(odoo_source.source_tree(str(archive), None)) == "18.0"


def test_odoo_version_picks_an_archive_of_a_directory(odoo_source, tmp_path):
    shelf = tmp_path / "shelf"
    shelf.mkdir()
    _tar(_tree(tmp_path / "a"), shelf / "odoo-18.0-20250421-min.tar.xz", ".")
    _tar(_tree(tmp_path / "b", 19), shelf / "odoo-19.0-20251227-min.tar.xz", ".")
    picked = odoo_source.source_tree(str(shelf), "18.0")
    assert odoo_source.series_of(picked) == "18.0"
    with pytest.raises(odoo_source.SourceError, match="no archive odoo-17.0-"):
        odoo_source.source_tree(str(shelf), "17.0")


def test_errors_say_what_to_set(odoo_source, tmp_path):
    with pytest.raises(odoo_source.SourceError, match="ODOO_SOURCE=.* does not exist") as exc:
        odoo_source.source_tree(str(tmp_path / "nowhere.tar.gz"), None)
    assert "ODOO_SOURCE=/path/to/odoo-18.0-source.tar.gz" in str(exc.value)
    with pytest.raises(odoo_source.SourceError, match="not supported"):
        odoo_source.provision(str(tmp_path), "17.0")
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(odoo_source.SourceError, match="not an archive"):
        odoo_source.source_tree(str(tmp_path / "notes.txt"), None)


def test_a_wrong_version_is_refused_before_building(odoo_source, tmp_path):
    tree = _tree(tmp_path / "o19", 19)
    with pytest.raises(odoo_source.SourceError, match="is Odoo 19.0, not ODOO_VERSION=18.0"):
        odoo_source.provision(str(tree), "18.0")


def test_an_archive_member_outside_the_tree_is_refused(odoo_source, tmp_path):
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("../escaped.txt", "x")
    with pytest.raises(odoo_source.SourceError, match="outside the tree"):
        odoo_source.source_tree(str(archive), None)
    assert not (tmp_path / "cache" / "escaped.txt").exists()


def test_is_unpacked_only_for_trees_it_unpacked(odoo_source, tmp_path):
    unpacked = tmp_path / "cache" / "src-0123456789abcdef"
    module = unpacked / "odoo" / "addons" / "base_sparse_field"
    module.mkdir(parents=True)
    assert not odoo_source.is_unpacked(module)  # no ready marker: not finished
    (unpacked / "ready").write_text(f"{unpacked}\n")
    assert odoo_source.is_unpacked(module)
    checkout = tmp_path / "odoo" / "addons" / "base_sparse_field"
    checkout.mkdir(parents=True)
    assert not odoo_source.is_unpacked(checkout)
