"""Errors of Salesforce extraction; each message names the object, field or operation."""

from __future__ import annotations


class ExtractError(RuntimeError):
    """Extraction failed; the message names the object, field or operation."""


class MissingRequiredError(ExtractError):
    """The org lacks an object or field salesprep cannot work without."""


class ApiRequestError(ExtractError):
    """A Salesforce API request failed for good (not retryable, or out of retries)."""

    def __init__(self, message: str, *, status: int | None = None, error_code: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.error_code = error_code


class ApiLimitError(ExtractError):
    """The org's daily API limit is exhausted, or the run's guard on it tripped; nothing
    was changed, and the run can be repeated once the usage is lower."""


class QueryLocatorExpired(ApiRequestError):
    """A query locator expired while paging; the object's query can be started again."""


class ExtractStopped(ExtractError):
    """The run stopped (another object's load failed) before this request was sent."""
