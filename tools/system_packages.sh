#!/usr/bin/env bash
# Debian packages the test suite needs: chromium (browser tests, no download possible),
# poppler-utils (pdftotext reads back the PDF reports), gettext (translation check) and the Noto
# fonts (the bilingual privacy documents: Arabic, Persian and Tigrinya (Ethiopic) script), nginx
# and the PostgreSQL client programs (the deployment files and the restore drill, tests/test_deploy_files.py
# and tests/test_restore_drill.py).
# WeasyPrint uses Pango, which Debian ships with the base system. Installs only what is missing, and only as root.
# With --build: only what `make install` needs to compile python-ldap (django-auth-ldap), which
# has no wheel on PyPI: libldap-dev, libsasl2-dev, a C compiler and Python's headers.
set -euo pipefail
missing=()
dpkg -s libldap-dev >/dev/null 2>&1 || missing+=(libldap-dev)
dpkg -s libsasl2-dev >/dev/null 2>&1 || missing+=(libsasl2-dev)
command -v gcc >/dev/null 2>&1 || missing+=(gcc)
"${PYTHON:-python3}" -c 'import os, sys, sysconfig; sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))' \
  || missing+=(python3-dev)
if [ "${1:-}" != "--build" ]; then
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v pdftotext >/dev/null 2>&1 || missing+=(poppler-utils)
# xgettext: the test that every message of the interface has a German translation.
command -v xgettext >/dev/null 2>&1 || missing+=(gettext)
dpkg -s libpango-1.0-0 >/dev/null 2>&1 || missing+=(libpango-1.0-0 libpangoft2-1.0-0)
# WeasyPrint warns (an error under our warnings policy) without the HarfBuzz subsetter.
dpkg -s libharfbuzz-subset0 >/dev/null 2>&1 || missing+=(libharfbuzz-subset0)
# nginx: tests/test_deploy_files.py checks deploy/nginx/kim.conf with `nginx -t` and sends HTTPS
# through it (started by the test on free ports; the package's own service is not needed).
# pg_dump, pg_restore, createdb: the restore drill (PostgreSQL leg).
command -v pg_restore >/dev/null 2>&1 || missing+=(postgresql-client)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx)
# Noto Sans, Noto Sans Arabic, Noto Naskh Arabic and Noto Sans Ethiopic for kim.privacy.documents.
dpkg -s fonts-noto-core >/dev/null 2>&1 || missing+=(fonts-noto-core)
# slapd and ldap-utils: the LDAP login tests start a real OpenLDAP server of their own
# (tests/directories.py); Debian's own default directory that the package sets up is not used.
[ -x /usr/sbin/slapd ] || missing+=(slapd)
command -v ldapadd >/dev/null 2>&1 || missing+=(ldap-utils)
fi
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "Please install these Debian packages: ${missing[*]}" >&2
  exit 1
fi
echo "Installing Debian packages: ${missing[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
