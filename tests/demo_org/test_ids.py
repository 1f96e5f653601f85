"""Salesforce ids: 18 characters, the case-safe checksum, unique per object and record."""

from __future__ import annotations

import itertools

import pytest

from salesprep.demo_org import InvalidIdError, is_valid_id, salesforce_id
from salesprep.demo_org.ids import id_sequence

_SUFFIX = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"


def reference_checksum(id15: str) -> str:
    """The documented algorithm, written out independently of the package."""
    out = ""
    for chunk in (id15[0:5], id15[5:10], id15[10:15]):
        bits = sum(1 << i for i, c in enumerate(chunk) if c.isupper())
        out += _SUFFIX[bits]
    return out


def test_checksum_matches_a_published_salesforce_id() -> None:
    # 001A0000006Vm9r is the example Salesforce's own documentation converts to 18 characters.
    assert reference_checksum("001A0000006Vm9r") == "IAC"
    assert is_valid_id("001A0000006Vm9rIAC")
    assert not is_valid_id("001A0000006Vm9rIAD")
    assert not is_valid_id("001A0000006Vm9r")


@pytest.mark.parametrize("prefix", ["001", "005", "00e", "00E", "0J9", "00T"])
def test_ids_have_prefix_length_and_checksum(prefix: str) -> None:
    for n in [0, 1, 61, 62, 3843, 3844, 10**6, 62**9 - 1]:
        value = salesforce_id(prefix, n)
        assert len(value) == 18
        assert value.startswith(prefix)
        assert value[15:] == reference_checksum(value[:15])


def test_ids_are_unique_even_compared_case_insensitively() -> None:
    ids = [salesforce_id(p, n) for p in ("00e", "00E") for n in range(5000)]
    assert len(set(ids)) == len(ids)
    assert len({i.lower() for i in ids}) == len(ids)


def test_id_sequence_equals_salesforce_id_across_block_boundaries() -> None:
    start = 3844 * 2 - 10
    produced = list(itertools.islice(id_sequence("006", start), 8000))
    assert produced == [salesforce_id("006", start + k) for k in range(8000)]


@pytest.mark.parametrize(("prefix", "n"), [("06", 1), ("0_6", 1), ("006", -1), ("006", 62**9)])
def test_bad_prefix_or_number_is_refused(prefix: str, n: int) -> None:
    with pytest.raises(InvalidIdError):
        salesforce_id(prefix, n)
