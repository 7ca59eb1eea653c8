"""Notifications through a pluggable backend (settings.GONGZHI_NOTIFY_BACKEND).

Rows are written in the action's transaction (an outbox) and sent by the worker on its next tick
(``send_pending``); a failed send stays unsent and is retried on a later tick. Backends: console (default), file
(JSON lines under var/notifications.log), and SMS / email adapters that a deployment configures.
"""

from __future__ import annotations

import json
import logging
from typing import Protocol

from django.conf import settings
from django.core.mail import send_mail
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


def send_pending(limit: int = 500) -> int:
    """Send unsent notifications (the worker runs this every tick); failures stay unsent and are
    retried on a later tick."""
    notes = list(Notification.objects.filter(sent_at__isnull=True).order_by("id")[:limit])
    sent: list[int] = []
    for note in notes:
        try:
            backend().send(note)
        except Exception:
            log.exception("notification %s not sent; will retry", note.pk)
            continue
        sent.append(note.pk)
    if sent:
        Notification.objects.filter(pk__in=sent).update(sent_at=timezone.now())
    return len(sent)


