"""Fixtures for the technician workspace pages: a signed-in technician's client."""
from __future__ import annotations

import pytest

from tests.factories import PASSWORD


def sign_in(client, email: str):
    r = client.post("/login", data={"email": email, "password": PASSWORD})
    assert r.status_code in (302, 303), r.status_code
    return client


@pytest.fixture
def tech(app, world):
    """The branch's primary technician, signed in (a test client with a session)."""
    return sign_in(app.test_client(), world.tech.email)


@pytest.fixture
def htmx_headers():
    return {"HX-Request": "true"}
