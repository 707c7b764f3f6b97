"""Photos on S3-compatible storage, against moto's S3 server on 127.0.0.1."""
import pytest

from app.services.storage_s3 import S3Storage


@pytest.fixture
def s3(s3_bucket):
    return S3Storage(s3_bucket.name, prefix="evercold", client=s3_bucket.client)


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
