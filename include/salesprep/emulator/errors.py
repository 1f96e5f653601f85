"""Salesforce REST API errors as the emulator returns them: an HTTP status plus errorCode."""

from __future__ import annotations

import json


class ApiError(Exception):
    """An error answered as Salesforce does: `[{"message": ..., "errorCode": ...}]`."""

    def __init__(self, status: int, error_code: str, message: str) -> None:
        super().__init__(f"{error_code}: {message}")
        self.status = status
        self.error_code = error_code
        self.message = message

    def body(self) -> bytes:
        return json.dumps([{"message": self.message, "errorCode": self.error_code}]).encode()


def malformed_query(message: str) -> ApiError:
    return ApiError(400, "MALFORMED_QUERY", message)


def invalid_field(message: str) -> ApiError:
    return ApiError(400, "INVALID_FIELD", message)


def invalid_type(message: str) -> ApiError:
    return ApiError(400, "INVALID_TYPE", message)


def invalid_session() -> ApiError:
    return ApiError(401, "INVALID_SESSION_ID", "Session expired or invalid")


def not_found(message: str = "The requested resource does not exist") -> ApiError:
    return ApiError(404, "NOT_FOUND", message)
