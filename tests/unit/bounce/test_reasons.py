"""The Reason table: one row per reason, and members that behave as the strings they name."""

import json

import pytest
from mailrep.bounce.reasons import MEANING, Cause, Reason, is_hard


def test_every_reason_has_one_meaning_row():
    assert set(MEANING) == set(Reason)


def test_a_misspelt_reason_is_an_error():
    with pytest.raises(ValueError):
        Reason("userunkown")
    with pytest.raises(AttributeError):
        Reason.USERUNKOWN  # noqa: B018


def test_reasons_are_written_as_their_plain_names():
    assert json.dumps({"reason": Reason.USERUNKNOWN, "cause": Cause.HARD}) == (
        '{"reason": "userunknown", "cause": "hard"}'
    )
    assert f"{Reason.BLOCKED}" == "blocked"


def test_the_pseudo_status_encodes_the_reason_and_the_class():
    assert Reason.USERUNKNOWN.pseudo_status(temporary=False) == "5.0.911"
    assert Reason.MAILBOXFULL.pseudo_status(temporary=True) == "4.0.922"


def test_a_hard_bounce_needs_a_hard_reason_given_permanently():
    assert is_hard(Reason.USERUNKNOWN, "5.1.1", "550")
    assert not is_hard(Reason.USERUNKNOWN, "4.1.1", None)
    assert not is_hard(Reason.USERUNKNOWN, None, "450")
    # a suspended mailbox is a hard cause, but it can come back: not a hard bounce
    assert Reason.SUSPEND.cause is Cause.HARD and not is_hard(Reason.SUSPEND, "5.2.1", "550")
