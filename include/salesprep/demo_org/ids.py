"""Salesforce record ids: 15-character case-sensitive ids with the 3-character case-safe suffix."""

from __future__ import annotations

import re
from collections.abc import Iterator

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_SUFFIX_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_PREFIX_RE = re.compile(r"^[0-9A-Za-z]{3}$")
# Characters 4-6 of a real id name the pod and a reserved digit; the demo org uses one pod.
_POD = "8d0"
_NUMBER_CHARS = 9
MAX_NUMBER = 62**_NUMBER_CHARS - 1
_LOW = [a + b for a in BASE62 for b in BASE62]
_LOW_BITS = [(("A" <= s[0] <= "Z") << 3) | (("A" <= s[1] <= "Z") << 4) for s in _LOW]


class InvalidIdError(ValueError):
    """A key prefix or record number that cannot make a Salesforce id."""


def _upper_mask(chunk: str) -> int:
    mask = 0
    for position, char in enumerate(chunk):
        if "A" <= char <= "Z":
            mask |= 1 << position
    return mask


def checksum(id15: str) -> str:
    """The 3-character suffix that makes a 15-character id case-insensitively unique."""
    if len(id15) != 15:
        raise InvalidIdError(f"checksum needs a 15-character id, got {id15!r}")
    return "".join(_SUFFIX_CHARS[_upper_mask(id15[i : i + 5])] for i in (0, 5, 10))


def _base62(number: int, width: int) -> str:
    chars = []
    for _ in range(width):
        number, digit = divmod(number, 62)
        chars.append(BASE62[digit])
    return "".join(reversed(chars))


def _check_prefix(prefix: str) -> None:
    if not _PREFIX_RE.match(prefix):
        raise InvalidIdError(f"key prefix {prefix!r} is not 3 letters or digits")


def salesforce_id(prefix: str, n: int) -> str:
    """The 18-character id of record number `n` (0 ≤ n ≤ 62⁹−1) of the object with `prefix`."""
    _check_prefix(prefix)
    if not 0 <= n <= MAX_NUMBER:
        raise InvalidIdError(f"record number {n} is outside 0..{MAX_NUMBER}")
    id15 = prefix + _POD + _base62(n, _NUMBER_CHARS)
    return id15 + checksum(id15)


def is_valid_id(value: str) -> bool:
    """True when `value` is an 18-character id whose suffix matches its first 15 characters."""
    return (
        len(value) == 18
        and all(c in BASE62 for c in value[:15])
        and checksum(value[:15]) == value[15:]
    )


def id_sequence(prefix: str, start: int = 1) -> Iterator[str]:
    """`salesforce_id(prefix, n)` for n = start, start+1, ...: fast, for millions of rows."""
    _check_prefix(prefix)
    if not 0 <= start <= MAX_NUMBER:
        raise InvalidIdError(f"record number {start} is outside 0..{MAX_NUMBER}")
    head = prefix + _POD[:2]  # characters 1-5: the first checksum chunk never changes
    first = _SUFFIX_CHARS[_upper_mask(head)]
    block, low_start = divmod(start, len(_LOW))
    while block * len(_LOW) <= MAX_NUMBER:
        high = _POD[2] + _base62(block, _NUMBER_CHARS - 2)  # characters 6-13
        second = first + _SUFFIX_CHARS[_upper_mask(high[:5])]
        third_mask = _upper_mask(high[5:])
        stem = head + high
        for low, bits in zip(_LOW[low_start:], _LOW_BITS[low_start:], strict=True):
            yield stem + low + second + _SUFFIX_CHARS[third_mask | bits]
        block, low_start = block + 1, 0
