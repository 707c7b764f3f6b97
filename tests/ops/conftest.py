"""Ops tests: tests marked `redis` start their own redis-server (a subprocess on a free
port). With CI=true a missing redis-server fails them; elsewhere they are deselected
(and say so in the summary), as tests/conftest.py does for PostgreSQL. The S3 tests
share a moto S3 server on 127.0.0.1."""
from __future__ import annotations

import os
import shutil
import socket
import uuid
from pathlib import Path
from types import SimpleNamespace

import pytest

HERE = Path(__file__).resolve().parent
CI = os.environ.get("CI", "").lower() == "true"


def pytest_collection_modifyitems(config, items):
    if CI or shutil.which("redis-server"):
        return
    dropped = [i for i in items if i.get_closest_marker("redis") and Path(str(i.fspath)).is_relative_to(HERE)]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [i for i in items if i not in dropped]


def free_port() -> int:
    """A loopback port nothing listens on (yet)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def s3_endpoint():
    """The URL of moto's S3 server, started once per test module."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3_bucket(s3_endpoint):
    """A fresh bucket on the moto server: .name, .client (boto3) and .endpoint."""
    import boto3

    name = f"photos-{uuid.uuid4().hex[:8]}"
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1",
                          aws_access_key_id="test", aws_secret_access_key="test")
    client.create_bucket(Bucket=name)
    return SimpleNamespace(name=name, client=client, endpoint=s3_endpoint)
