"""Photos on S3-compatible storage, against moto's S3 server on 127.0.0.1."""
import socket

import pytest

from app.services.storage_s3 import S3Storage


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def s3_endpoint():
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3(s3_endpoint):
    import uuid

    import boto3

    bucket = f"photos-{uuid.uuid4().hex[:8]}"
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1",
                          aws_access_key_id="test", aws_secret_access_key="test")
    client.create_bucket(Bucket=bucket)
    return S3Storage(bucket, prefix="evercold", client=client)


def test_a_stored_photo_reads_back_byte_for_byte(s3):
    s3.put("photos/t1/p1.jpg", b"\xff\xd8jpeg-bytes")
    assert s3.exists("photos/t1/p1.jpg")
    assert s3.get("photos/t1/p1.jpg") == b"\xff\xd8jpeg-bytes"
    assert list(s3.keys()) == ["photos/t1/p1.jpg"]


def test_a_deleted_photo_is_gone_and_reading_it_says_not_found(s3):
    s3.put("photos/t1/p2.jpg", b"x")
    s3.delete("photos/t1/p2.jpg")
    assert not s3.exists("photos/t1/p2.jpg")
    with pytest.raises(FileNotFoundError):
        s3.get("photos/t1/p2.jpg")


def test_keys_that_escape_the_prefix_are_refused(s3):
    for bad in ("../etc/passwd", "/abs", "photos/../../x", "UPPER.jpg"):
        with pytest.raises(ValueError):
            s3.put(bad, b"x")
