"""Pending uploads: scans a form already received, kept across an error round-trip.

A browser cannot put a file back into a file input, so before this every error (a typo in the
form, a missing material, the one-time notice) dropped every scan the clerk had made. Now a scan
that passed the upload check is kept on disk under a random name in ``var/pending/`` (0700/0600,
like every upload) and the re-shown form carries a *signed token* for it in the POST body:

* no personal data leaves the server — the token names only the random file, the material key
  and the user it belongs to (the original file name stays in a side file beside the scan);
* the token is bound to the user who uploaded it and expires (``MAX_AGE``): another user, or the
  same one a day later, cannot use it;
* the file is deleted when the application is accepted, and a periodic job
  (``services.clean_pending_uploads``) deletes what an abandoned form left behind.

Nothing here touches the database: the scan enters a wallet only through intake, as before.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.files.uploadedfile import SimpleUploadedFile, UploadedFile

from gongzhi.core.files import PRIVATE_FILE_MODE, private_dir

SALT = "services.pending-upload"
MAX_AGE = 6 * 3600  # seconds: a working half-day at the window
_NAME = re.compile(r"[0-9a-f]{32}")


def pending_dir() -> Path:
    return private_dir(Path(settings.VAR_DIR) / "pending")


def stash(upload: UploadedFile, *, user_id: int, key: str) -> str:
    """Keep ``upload`` (already checked) and return the token the form carries for it."""
    name = secrets.token_hex(16)
    folder = pending_dir()
    upload.seek(0)
    _write(folder / name, upload.read())
    meta = {"filename": (upload.name or "scan")[-100:], "content_type": upload.content_type or ""}
    _write(folder / f"{name}.json", json.dumps(meta, ensure_ascii=False).encode())
    upload.seek(0)
    return signing.dumps({"f": name, "u": user_id, "k": key}, salt=SALT)


def restore(token: str, *, user_id: int) -> tuple[str, UploadedFile, str] | None:
    """(material key, the upload, its token) for a valid token of this user; ``None`` otherwise
    (forged, expired, someone else's, or already used)."""
    try:
        data = signing.loads(token, salt=SALT, max_age=MAX_AGE)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or data.get("u") != user_id or not _NAME.fullmatch(str(data.get("f", ""))):
        return None
    path = pending_dir() / data["f"]
    try:
        content = path.read_bytes()
        meta = json.loads((path.parent / f"{data['f']}.json").read_text())
    except (OSError, ValueError):
        return None
    upload = SimpleUploadedFile(str(meta.get("filename") or "scan"), content, str(meta.get("content_type") or ""))
    return str(data.get("k", "")), upload, token


def discard(token: str) -> None:
    """Delete a pending upload (after the application that used it was accepted)."""
    try:
        data = signing.loads(token, salt=SALT)
    except signing.BadSignature:
        return
    name = str(data.get("f", "")) if isinstance(data, dict) else ""
    if _NAME.fullmatch(name):
        for path in (pending_dir() / name, pending_dir() / f"{name}.json"):
            path.unlink(missing_ok=True)


def clean_expired(now: float | None = None) -> int:
    """Delete pending uploads older than ``MAX_AGE``; return how many scans went."""
    cutoff = (time.time() if now is None else now) - MAX_AGE
    removed = 0
    for path in pending_dir().iterdir():
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink(missing_ok=True)
                removed += path.suffix != ".json"
        except OSError:
            continue
    return removed


def _write(path: Path, content: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    with os.fdopen(fd, "wb") as fh:
        fh.write(content)


def file_label(upload: Any) -> str:
    """The name to show for a kept scan (the client's own file name, on the page only)."""
    return str(getattr(upload, "name", "") or "")
