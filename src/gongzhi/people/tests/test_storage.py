"""Issue #10: stored scans honour the upload permission settings (0600 files, 0700 folders)."""

from __future__ import annotations

import contextlib
import stat
from datetime import date
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile, TemporaryUploadedFile

from gongzhi.core.tests.actors import SYSTEM as TEST_SYSTEM
from gongzhi.people import actions
from gongzhi.people.numbers import make_id_number

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n%%EOF\n"


def number(n: int) -> str:
    return make_id_number("440305", date(1980, 1, 1 + n % 28), 100 + n)


# --- 4. Stored scans are private to the server's user ------------------------------------------


def _on_disk(name: str) -> TemporaryUploadedFile:
    # What Django hands a view for an upload above FILE_UPLOAD_MAX_MEMORY_SIZE: the storage
    # moves this file into place instead of writing a new one, a second way to get the mode wrong.
    upload = TemporaryUploadedFile(name, "application/pdf", len(PDF), None)
    upload.write(PDF)
    upload.seek(0)
    return upload


@pytest.mark.parametrize("make_upload", [lambda: SimpleUploadedFile("id.pdf", PDF), lambda: _on_disk("id.pdf")],
                         ids=["in-memory", "temporary-file"])
def test_stored_upload_honours_the_upload_permission_settings(place_tree, settings, make_upload):
    # The settings are being added project-wide; set here so this test checks our storage code.
    settings.FILE_UPLOAD_PERMISSIONS = 0o600
    settings.FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700
    person = actions.do_register_person(number(1), "张伟", home_place=place_tree.pingshan, actor=TEST_SYSTEM)
    upload = make_upload()
    doc = actions.do_add_document(person, "id_card", "身份证", upload, actor=TEST_SYSTEM)
    with contextlib.suppress(FileNotFoundError):
        upload.close()  # a moved temporary file is already gone (Django's request cleanup does this)
    path = Path(doc.file.path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    root = Path(settings.MEDIA_ROOT)
    folder = path.parent
    while folder != root.parent:
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
        folder = folder.parent


