"""The restore drill of docs/operations.md, performed on SQLite."""
import json
import os

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import ServiceTicket, TicketPhoto
from app.services import photos, tickets
from tests.factories import jpeg_bytes, make_ticket


@pytest.mark.sqlite_only
def test_restore_brings_back_tickets_and_photos_exactly_as_backed_up(app, world, tmp_path):
    ticket = make_ticket(world)
    tickets.accept(ticket, world.tech)
    photo = photos.add_photo(ticket, world.tech, jpeg_bytes(), "after", "done", "after.jpg")
    db.session.commit()
    photo_id = photo.id
    photo_path = os.path.join(app.config["UPLOAD_DIR"], photo.storage_key)
    runner = app.test_cli_runner()

    result = runner.invoke(args=["backup", str(tmp_path / "b1")])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["counts"]["service_tickets"] == 1

    # Disaster: a second ticket arrives, then the photo file is lost.
    make_ticket(world, description="after the backup")
    db.session.commit()
    os.remove(photo_path)
    db.session.remove()

    refused = runner.invoke(args=["restore", str(tmp_path / "b1")])
    assert refused.exit_code != 0 and "--yes" in refused.output
    result = runner.invoke(args=["restore", str(tmp_path / "b1"), "--yes"])
    assert result.exit_code == 0, result.output

    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ServiceTicket)) == 1
        restored = db.session.scalar(select(TicketPhoto))
        assert restored.id == photo_id
    assert os.path.exists(photo_path)


@pytest.mark.sqlite_only
def test_backup_refuses_to_overwrite_an_existing_folder(app, ctx, tmp_path):
    (tmp_path / "exists").mkdir()
    result = app.test_cli_runner().invoke(args=["backup", str(tmp_path / "exists")])
    assert result.exit_code != 0
