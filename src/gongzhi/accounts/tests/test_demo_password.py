"""Demo logins share one prepared password hash (an Argon2 hash costs up to a second each)."""

from __future__ import annotations

import pytest

from gongzhi.accounts.actions import do_create_user, do_set_password
from gongzhi.accounts.demo import DEFAULT_DEMO_PASSWORD, demo_password_hash
from gongzhi.core.models import AuditEvent
from gongzhi.core.tests.actors import SYSTEM as TEST_SYSTEM

pytestmark = pytest.mark.django_db


def test_a_system_actor_sets_a_prepared_hash(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GONGZHI_DEMO_PASSWORD", raising=False)
    user = do_create_user("demo_one", "演示", None, actor=TEST_SYSTEM)
    do_set_password(user, demo_password_hash(), actor=TEST_SYSTEM, hashed=True)
    user.refresh_from_db()
    assert user.check_password(DEFAULT_DEMO_PASSWORD)
    assert demo_password_hash() == demo_password_hash()  # made once per process
    assert AuditEvent.objects.filter(verb="user.set_password", object_id=str(user.pk)).exists()


def test_only_a_system_actor_sets_a_hash_and_only_a_hash() -> None:
    user = do_create_user("demo_two", "演示", None, actor=TEST_SYSTEM)
    with pytest.raises(TypeError):
        do_set_password(user, demo_password_hash(), actor=user, hashed=True)
    with pytest.raises(ValueError):
        do_set_password(user, "not-a-hash", actor=TEST_SYSTEM, hashed=True)
    user.refresh_from_db()
    assert not user.has_usable_password()
