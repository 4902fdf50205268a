#!/bin/sh
# kim-backup: one dump of the KIM database in PostgreSQL's custom format (pg_restore reads it),
# checked for readability, and the dumps older than KIM_BACKUP_DAYS removed.
# Run daily by deploy/systemd/kim-backup.timer; by hand: KIM_BACKUP_DATABASE_URL=kim sh kim-backup.sh
# The erasure log (KIM_PRIVACY_LOG) is backed up apart, see docs/betrieb.md.
set -eu
: "${KIM_BACKUP_DATABASE_URL:?names the database, e.g. kim or postgres://kim_owner@127.0.0.1/kim}"
: "${KIM_BACKUP_DIR:=/var/backups/kim}"
: "${KIM_BACKUP_DAYS:=14}"
umask 077
mkdir -p "$KIM_BACKUP_DIR"
target="$KIM_BACKUP_DIR/kim-$(date +%Y-%m-%d-%H%M%S).dump"
# Written under another name first: a dump cut short is never taken for a whole one.
pg_dump --format=custom --file "$target.partial" --dbname "$KIM_BACKUP_DATABASE_URL"
pg_restore --list "$target.partial" > /dev/null
mv "$target.partial" "$target"
find "$KIM_BACKUP_DIR" -maxdepth 1 -name 'kim-*.dump' -mtime +"$KIM_BACKUP_DAYS" -delete
echo "kim-backup: $target ($(du -h "$target" | cut -f1))"
