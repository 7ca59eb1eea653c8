"""Write a few fields of many rows: one ``UPDATE … WHERE pk = %s`` run for every row
(``executemany``), values prepared as the ORM prepares them.

Why not ``bulk_update``: it builds a ``CASE WHEN pk = … THEN …`` expression per row and field,
which cost more than hashing and storing (profiled on the overdue sweep: most of the audit
sealer's and the figures roll-up's time). Used by those two periodic jobs. With
``GONGZHI_DB_SHORTCUTS`` off, or on a database other than SQLite/PostgreSQL, ``bulk_update`` runs.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connections, router
from django.db.models import Model

from gongzhi.core.db import shortcuts_on
from gongzhi.core.db.rows import quote


def update_fields(objs: Sequence[Model], fields: Sequence[str]) -> None:
    """Store ``fields`` of saved instances of one model (no signals, no ``auto_now``)."""
    if not objs:
        return
    model = type(objs[0])
    if any(type(o) is not model for o in objs):
        raise TypeError("update_fields() takes instances of one model")
    conn = connections[router.db_for_write(model)]
    if not shortcuts_on() or conn.vendor not in ("sqlite", "postgresql"):
        model._default_manager.db_manager(conn.alias).bulk_update(list(objs), list(fields))
        return
    opts = model._meta
    qn = quote
    targets = [opts.get_field(name) for name in fields]
    assignments = ", ".join(f"{qn(str(f.column))} = %s" for f in targets)  # type: ignore[union-attr]
    # Only the quoted names of the model's own table and columns are formatted in.
    sql = f"UPDATE {qn(opts.db_table)} SET {assignments} WHERE {qn(str(opts.pk.column))} = %s"  # noqa: S608
    rows = [
        [*(f.get_db_prep_save(getattr(o, f.attname), connection=conn) for f in targets), o.pk]  # type: ignore[union-attr]
        for o in objs
    ]
    with conn.cursor() as cur:
        cur.executemany(sql, rows)
