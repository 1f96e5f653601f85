"""The interceptor hook that fault injection builds on: answer, delay or drop a request."""

from __future__ import annotations

import pytest
import requests
from simple_salesforce.exceptions import SalesforceGeneralError

from salesprep.emulator import Request, Response, run_emulator
from salesprep.emulator.messages import Handler

from .conftest import OrgFixture, connect


def test_interceptors_can_answer_or_drop_requests(org: OrgFixture) -> None:
    seen: list[str] = []

    def record(request: Request, forward: Handler) -> Response:
        seen.append(request.path)
        return forward(request)

    def unavailable_queries(request: Request, forward: Handler) -> Response:
        if request.path.endswith("/query/") and request.param("q") == "SELECT Id FROM User":
            return Response.json([{"message": "try later", "errorCode": "SERVER_UNAVAILABLE"}], 503)
        if request.param("q") == "SELECT Name FROM User":
            return Response(drop_connection=True)
        return forward(request)

    with run_emulator(org.path) as handle:
        handle.emulator.interceptors += [record, unavailable_queries]
        sf = connect(handle)
        with pytest.raises(SalesforceGeneralError) as caught:
            sf.query("SELECT Id FROM User")
        assert caught.value.status == 503
        with pytest.raises(requests.ConnectionError):
            sf.query("SELECT Name FROM User")
        assert sf.query("SELECT COUNT() FROM User")["totalSize"] == 8
    assert seen[0].startswith("/services/Soap/u/")
    assert len(seen) == 4
