"""`make uninstall-check` compares the snapshots taken before and after the upgrade."""

import importlib
import sys
from pathlib import Path

TOOLS = Path(__file__).resolve().parents[2] / "tools"


def _omnictl():
    """tools/harness/upgrade.py (tools/ on sys.path, as tools/omnictl.py puts it)."""
    if str(TOOLS) not in sys.path:
        sys.path.insert(0, str(TOOLS))
    return importlib.import_module("harness.upgrade")


def test_identical_snapshots_have_no_difference():
    snapshot = {"payment.token": [{"id": 1, "nickname": "A", "card_exp_year": 2030}]}
    assert _omnictl().snapshot_differences(snapshot, snapshot) == (1, 3, [])


def test_changed_missing_and_gone_values_are_reported():
    before = {
        "payment.token": [
            {"id": 1, "nickname": "A", "card_exp_year": 2030},
            {"id": 2, "nickname": "B", "card_exp_year": 2031},
        ],
        "omni.payment.audit": [{"id": 7, "event": "added"}],
    }
    after = {
        "payment.token": [{"id": 1, "nickname": "A", "card_exp_year": 2031}],
        "omni.payment.audit": [{"id": 7}],
    }
    records, values, differences = _omnictl().snapshot_differences(before, after)
    assert (records, values) == (3, 5)
    assert differences == [
        "payment.token,1.card_exp_year: 2030 -> 2031",
        "payment.token,2: gone after the upgrade",
        "omni.payment.audit,7.event: 'added' -> '<missing>'",
    ]


def test_a_parameter_renamed_by_a_migration_is_no_difference():
    before = {"ir.config_parameter": [{"id": 3, "key": "old.guard", "value": "1"}]}
    renamed_after = {"ir.config_parameter": [{"id": 3, "key": "new.guard", "value": "1"}]}
    renames = {"old.guard": "new.guard"}
    upgrade = _omnictl()
    assert upgrade.snapshot_differences(before, renamed_after, renames) == (1, 3, [])
    # Renamed to something else, or not renamed at all: a difference.
    assert upgrade.snapshot_differences(before, renamed_after, {}) == (
        1,
        3,
        ["ir.config_parameter,3.key: 'old.guard' -> 'new.guard'"],
    )
    assert upgrade.snapshot_differences(before, before, renames)[2] == [
        "ir.config_parameter,3.key: 'new.guard' -> 'old.guard'"
    ]


def test_the_renames_are_read_from_the_migration_scripts():
    renames = _omnictl().renamed_params()
    assert renames["omni_payment_methods.pan_guard"] == "omni_pan_guard.enabled"
    assert renames["omni_payment_methods.charge_lanes"] == "omni_payment_charging.charge_lanes"


def test_a_field_renamed_by_a_migration_is_compared_under_its_new_name():
    before = {"payment.token": [{"id": 1, "nickname": "A", "card_exp_year": 2030}]}
    after = {"payment.token": [{"id": 1, "omni_nickname": "A", "omni_card_exp_year": 2030}]}
    fields = {"payment.token": {"nickname": "omni_nickname", "card_exp_year": "omni_card_exp_year"}}
    upgrade = _omnictl()
    assert upgrade.snapshot_differences(before, after, {}, fields) == (1, 3, [])
    # A value lost in the rename is a difference; so is a rename the migration does not list.
    changed = {"payment.token": [{"id": 1, "omni_nickname": "B", "omni_card_exp_year": 2030}]}
    assert upgrade.snapshot_differences(before, changed, {}, fields)[2] == [
        "payment.token,1.omni_nickname: 'A' -> 'B'"
    ]
    assert upgrade.snapshot_differences(before, after, {}, {})[2] == [
        "payment.token,1.nickname: 'A' -> '<missing>'",
        "payment.token,1.card_exp_year: 2030 -> '<missing>'",
    ]


def test_the_field_renames_are_read_from_the_migration_scripts():
    renames = _omnictl().renamed_fields()["payment.token"]
    assert renames["is_default"] == "omni_is_default"
    assert renames["expiry_date"] == "omni_expiry_date"
    assert "commercial_partner_id" not in renames
