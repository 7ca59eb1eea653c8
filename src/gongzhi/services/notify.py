"""Notifications through a pluggable backend (settings.GONGZHI_NOTIFY_BACKEND).

Rows are written in the action's transaction (an outbox), sent after commit; a failed send
stays unsent and the worker's periodic job retries it. Backends: console (default), file
(JSON lines under var/notifications.log), and SMS / email adapters that a deployment configures.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import Protocol

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from gongzhi.core.logging import mask_text
from gongzhi.services.models import Notification

log = logging.getLogger("gongzhi.notify")


class Backend(Protocol):
    def send(self, note: Notification) -> None: ...


class ConsoleBackend:
    def send(self, note: Notification) -> None:
        log.info("notify %s: %s — %s", note.recipient, note.subject, mask_text(note.body))


class FileBackend:
    def send(self, note: Notification) -> None:
        path = settings.VAR_DIR / "notifications.log"
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps({"id": note.pk, "to": note.recipient, "subject": note.subject,
                                 "body": mask_text(note.body), "at": timezone.now().isoformat()},
                                ensure_ascii=False) + "\n")


class EmailBackend:
    """Sends through Django's email settings (EMAIL_HOST…) to ``note.recipient`` if it is an address."""

    def send(self, note: Notification) -> None:
        if "@" in note.recipient:
            send_mail(note.subject, note.body, None, [note.recipient])


class SmsBackend:
    """Posts to an SMS gateway (GONGZHI_SMS_URL) — the district's own gateway; none by default."""

    def send(self, note: Notification) -> None:
        import urllib.request

        url = getattr(settings, "GONGZHI_SMS_URL", "")
        if not url:
            raise RuntimeError("GONGZHI_SMS_URL is not configured")
        body = json.dumps({"to": note.recipient, "text": f"{note.subject} {note.body}"}).encode()
        req = urllib.request.Request(url, body, {"Content-Type": "application/json"})  # noqa: S310
        urllib.request.urlopen(req, timeout=10).close()  # noqa: S310


def backend() -> Backend:
    path = getattr(settings, "GONGZHI_NOTIFY_BACKEND", "gongzhi.services.notify.ConsoleBackend")
    return import_string(path)()


def _send(note_id: int, note: Notification | None = None) -> None:
    if note is None:
        note = Notification.objects.filter(pk=note_id, sent_at__isnull=True).first()
        if note is None:
            return
    try:
        backend().send(note)
    except Exception:
        log.exception("notification %s not sent; will retry", note_id)
        return
    Notification.objects.filter(pk=note_id).update(sent_at=timezone.now())


def send_later(note: Notification) -> None:
    transaction.on_commit(lambda: _send(note.pk, note))


def retry_unsent(limit: int = 100) -> int:
    # Only rows old enough that their own after-commit send has certainly been tried.
    cutoff = timezone.now() - timedelta(minutes=1)
    ids = list(
        Notification.objects.filter(sent_at__isnull=True, created_at__lt=cutoff)
        .order_by("id")
        .values_list("id", flat=True)[:limit]
    )
    for note_id in ids:
        _send(note_id)
    return len(ids)


