"""The database keeps the audit log append-only, whatever SQL reaches it."""

import io
import uuid
from datetime import timedelta

import psycopg
import pytest
from django.core.management import call_command
from django.db import connection, transaction

from kim.casework import services
from kim.core.models import AuditEntry


@pytest.fixture
def entry(world, in_scope):
    services.update_case(world.insider, world.case, {"opened_on": world.case.opened_on - timedelta(days=1)})
    return AuditEntry.objects.first()


def refused(sql, params=()):
    with pytest.raises(Exception, match="append-only|permission denied"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)


def test_a_raw_delete_is_refused(entry):
    refused("DELETE FROM core_auditentry WHERE id = %s", [entry.pk])
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


def test_the_orms_raw_delete_is_refused(entry):
    with pytest.raises(Exception, match="append-only"):
        with transaction.atomic():
            AuditEntry.objects.filter(pk=entry.pk)._raw_delete(connection.alias)
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


def test_replacing_an_entry_is_refused(entry):
    if connection.vendor == "sqlite":
        sql = ("INSERT OR REPLACE INTO core_auditentry (id, at, action, object_type, object_id, object_label, changes) "
               "VALUES (%s, %s, 'delete', 'x', '', '', '{}')")
    else:
        sql = ("INSERT INTO core_auditentry (id, at, action, object_type, object_id, object_label, changes) "
               "VALUES (%s, %s, 'delete', 'x', '', '', '{}') ON CONFLICT (id) DO UPDATE SET action = 'delete'")
    refused(sql, [entry.pk, entry.at])
    entry.refresh_from_db()
    assert entry.action == AuditEntry.Action.UPDATE


def test_appending_still_works(entry):
    before = AuditEntry.objects.count()
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO core_auditentry (at, action, object_type, object_id, object_label, changes) "
                       "VALUES (%s, 'read', 'x', '', '', '{}')", [entry.at])
    assert AuditEntry.objects.count() == before + 1


@pytest.fixture
def app_role(db):
    if connection.vendor != "postgresql":
        pytest.skip("database roles exist on PostgreSQL only (SQLite: see test_a_raw_delete_is_refused)")
    name = f"kim_app_{uuid.uuid4().hex[:8]}"
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE ROLE {name} LOGIN")
    yield name
    with connection.cursor() as cursor:
        cursor.execute(f"DROP OWNED BY {name}")
        cursor.execute(f"DROP ROLE {name}")


def as_role(role):
    settings = connection.settings_dict
    return psycopg.connect(host=settings["HOST"] or "127.0.0.1", port=settings["PORT"] or 5432,
                           dbname=settings["NAME"], user=role, autocommit=True)


@pytest.mark.django_db(transaction=True)
def test_the_application_role_reads_and_appends_but_cannot_rewrite_the_log(app_role, world):
    with connection.cursor() as cursor:
        cursor.execute("SELECT max(id) FROM core_auditentry")
        last = cursor.fetchone()[0]
    out = io.StringIO()
    call_command("grant_app_role", app_role, stdout=out)
    assert app_role in out.getvalue()
    with as_role(app_role) as conn:
        conn.execute("SELECT count(*) FROM casework_case").fetchone()
        appended = conn.execute("INSERT INTO core_auditentry (at, action, object_type, object_id, object_label, "
                                "changes) VALUES (now(), 'read', 'x', '', 'TN-X', '{}') RETURNING id").fetchone()[0]
        for statement in (f"DELETE FROM core_auditentry WHERE id = {last}", "TRUNCATE core_auditentry",
                          f"UPDATE core_auditentry SET action = 'x' WHERE id = {last}",
                          "DROP TRIGGER core_auditentry_append_only ON core_auditentry",
                          "ALTER TABLE core_auditentry DISABLE TRIGGER ALL"):
            with pytest.raises(psycopg.Error, match="permission denied|must be owner|append-only"):
                conn.execute(statement)
        # The one change erasure and retention need (attack V5: it was refused to this role).
        done = conn.execute(f"UPDATE core_auditentry SET redacted = true, object_label = 'anonymisiert' "
                            f"WHERE id = {appended}").rowcount
    assert done == 1 and AuditEntry.objects.get(pk=appended).object_label == "anonymisiert"
    assert AuditEntry.objects.filter(pk=last).exists()


def test_grant_app_role_explains_itself_on_sqlite(db):
    if connection.vendor != "sqlite":
        pytest.skip("the SQLite message only")
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="Nur für PostgreSQL"):
        call_command("grant_app_role", "kim_app")
