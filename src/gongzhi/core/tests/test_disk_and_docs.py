"""What the platform leaves on disk is private, and the API docs page needs nothing from the
internet (issue #10)."""

from __future__ import annotations

import json
import re
import stat
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage
from django.core.management import call_command
from django.db import connection
from django.test import Client, override_settings

from gongzhi.core.files import secure_var_dir


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_var_dir_and_database_are_private_even_with_a_permissive_umask(tmp_path: Path) -> None:
    import os

    var = tmp_path / "var"
    var.mkdir(mode=0o755)
    database = var / "gongzhi.sqlite3"
    wal = var / "gongzhi.sqlite3-wal"
    old = os.umask(0o022)
    try:
        wal.write_text("")  # left behind by an older version, world-readable
        secure_var_dir(var, database)
    finally:
        os.umask(old)
    assert _mode(var) == 0o700
    assert _mode(database) == 0o600 and database.stat().st_size == 0
    assert _mode(wal) == 0o600
    # An existing database is never truncated.
    database.write_bytes(b"SQLite format 3\x00")
    secure_var_dir(var, database)
    assert database.read_bytes().startswith(b"SQLite")


def test_the_configured_var_dir_is_private() -> None:
    assert _mode(Path(settings.VAR_DIR)) == 0o700
    if connection.vendor == "sqlite":
        assert _mode(Path(settings.SQLITE_PATH)) == 0o600


def test_uploads_are_private(tmp_path: Path) -> None:
    assert settings.FILE_UPLOAD_PERMISSIONS == 0o600
    assert settings.FILE_UPLOAD_DIRECTORY_PERMISSIONS == 0o700
    storage = FileSystemStorage(location=tmp_path / "files")  # takes the modes from settings
    name = storage.save("wallet/2026/12/id-card.pdf", ContentFile(b"%PDF-1.4"))
    assert _mode(Path(storage.path(name))) == 0o600
    assert _mode(Path(storage.path("wallet"))) == 0o700


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "sqlite", reason="the backup command copies the embedded SQLite file")
def test_backups_are_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sqlite3

    # The test database lives in memory inside a transaction; back up a file database instead.
    source = tmp_path / "source.sqlite3"
    with sqlite3.connect(source) as db:
        db.execute("CREATE TABLE t (x)")
    monkeypatch.setitem(settings.DATABASES["default"], "NAME", str(source))
    target = tmp_path / "backups"
    call_command("backup", str(target), stdout=open("/dev/null", "w"))
    (backup,) = target.glob("gongzhi-*.sqlite3")
    assert _mode(target) == 0o700
    assert _mode(backup) == 0o600


def test_dev_keys_are_private_even_if_an_older_version_left_them_readable(tmp_path: Path) -> None:
    from gongzhi.core import crypto

    keys = tmp_path / "dev-keys.json"
    keys.write_text(json.dumps({"GONGZHI_PII_KEY": "A" * 43 + "=", "GONGZHI_PII_INDEX_KEY": "B" * 43 + "="}))
    keys.chmod(0o644)
    with override_settings(VAR_DIR=tmp_path, PII_ENCRYPTION_KEY="", PII_INDEX_KEY=""):
        crypto._keys.cache_clear()
        try:
            crypto._keys()
        finally:
            crypto._keys.cache_clear()
    assert _mode(keys) == 0o600
    fresh = tmp_path / "fresh"
    with override_settings(VAR_DIR=fresh, PII_ENCRYPTION_KEY="", PII_INDEX_KEY=""):
        crypto._keys.cache_clear()
        try:
            crypto._keys()
        finally:
            crypto._keys.cache_clear()
    assert _mode(fresh) == 0o700 and _mode(fresh / "dev-keys.json") == 0o600


# --- the API docs page and the content security policy -----------------------------------------


@pytest.mark.django_db
def test_api_docs_page_references_no_external_host(client: Client) -> None:
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    html = response.content.decode()
    refs = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", html)
    assert any("swagger-ui-bundle" in r for r in refs)
    external = [r for r in refs if re.match(r"^(?:[a-z][a-z0-9+.-]*:)?//", r, re.I)]
    assert not external, external
    for ref in refs:  # and each local asset is really served
        assert client.get(ref).status_code == 200, ref


@pytest.mark.django_db
def test_csp_allows_websockets_only_to_our_own_host_and_socket_port(client: Client) -> None:
    with override_settings(GONGZHI_WS_PORT="8001"):
        csp = client.get("/", HTTP_HOST="127.0.0.1:8000")["Content-Security-Policy"]
    connect = next(d for d in csp.split(";") if d.strip().startswith("connect-src")).split()[1:]
    assert connect == ["'self'", "ws://127.0.0.1:8001"]
    with override_settings(GONGZHI_WS_PORT=""):
        csp = client.get("/", HTTP_HOST="localhost:9000", secure=True)["Content-Security-Policy"]
    connect = next(d for d in csp.split(";") if d.strip().startswith("connect-src")).split()[1:]
    assert connect == ["'self'", "wss://localhost:9000"]  # one ASGI server (or a proxy): same port
