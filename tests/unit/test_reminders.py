"""Reminder stage arithmetic (omni_payment_methods/lib/reminders.py)."""

import pytest
from omni_pm_lib import reminders


@pytest.mark.parametrize(
    ("days_left", "stage"),
    [
        (61, None),
        (60, 60),
        (31, 60),
        (30, 30),
        (8, 30),
        (7, 7),
        (1, 7),
        (0, 0),  # the last valid day: "at expiry"
        (-1, 0),
        (-30, 0),  # still within the grace period
        (-31, None),
        (None, None),
    ],
)
def test_due_stage_with_default_offsets(days_left, stage):
    assert reminders.due_stage(days_left) == stage


def test_due_stage_with_custom_offsets_and_grace():
    assert reminders.due_stage(14, (90, 14), grace_days=0) == 14
    assert reminders.due_stage(15, (90, 14), grace_days=0) == 90
    assert reminders.due_stage(-1, (90, 14), grace_days=0) is None
    assert reminders.due_stage(-1, (90, 14), grace_days=5) == 14
    assert reminders.due_stage(3, ()) is None


@pytest.mark.parametrize(
    ("text", "offsets"),
    [
        ("60,30,7,0", (60, 30, 7, 0)),
        (" 7; 60 , 30,,0 ", (60, 30, 7, 0)),
        ("30,30,7", (30, 7)),
        ("365", (365,)),
    ],
)
def test_parse_offsets(text, offsets):
    assert reminders.parse_offsets(text) == offsets
    assert reminders.parse_offsets(reminders.format_offsets(offsets)) == offsets


@pytest.mark.parametrize("text", ["", "  ", None, "60,-1", "sixty", "400", "7.5", ",,"])
def test_parse_offsets_refuses_bad_input(text):
    with pytest.raises(ValueError):
        reminders.parse_offsets(text)


def test_window():
    assert reminders.window() == (-30, 60)
    assert reminders.window((90, 14), grace_days=3) == (-3, 90)
