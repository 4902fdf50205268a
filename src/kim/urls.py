from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from kim.api import pages as api_pages
from kim.core import accounts, monitoring, password_reset, views
from kim.identity import views as identity_views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", monitoring.healthz, name="healthz"),
    path("healthz/worker", monitoring.healthz_worker, name="healthz-worker"),
    path("metrics", monitoring.metrics, name="metrics"),
    path("anmelden/", views.LoginView.as_view(), name="login"),
    path("anmelden/oidc/", identity_views.oidc_start, name="oidc-start"),
    path("anmelden/oidc/zurueck/", identity_views.oidc_callback, name="oidc-callback"),
    path("abmelden/", auth_views.LogoutView.as_view(), name="logout"),
    path("passwort/", views.password_change, name="password-change"),
    path("", include(password_reset)),
    path("zweiter-faktor/einrichten/", views.otp_setup, name="otp-setup"),
    path("zweiter-faktor/", views.otp_verify, name="otp-verify"),
    path("verwaltung/benutzer/", accounts.account_list, name="admin-users"),
    path("verwaltung/benutzer/neu/", accounts.account_new, name="admin-user-new"),
    path("verwaltung/benutzer/<int:pk>/", accounts.account_edit, name="admin-user-edit"),
    path("verwaltung/benutzer/<int:pk>/passwort/", accounts.account_password, name="admin-user-password"),
    path("verwaltung/benutzer/<int:pk>/deaktivieren/", accounts.account_deactivate, name="admin-user-deactivate"),
    path("verwaltung/benutzer/<int:pk>/entsperren/", accounts.account_unlock, name="admin-user-unlock"),
    path("verwaltung/organisation/", views.admin_organisation, name="admin-organisation"),
    path("verwaltung/einstellungen/", views.admin_district_settings, name="admin-district-settings"),
    path("verwaltung/organisation/<str:unit>/neu/", views.admin_unit_edit, name="admin-unit-new"),
    path("verwaltung/organisation/<str:unit>/<int:pk>/", views.admin_unit_edit, name="admin-unit-edit"),
    path("verwaltung/kataloge/", views.admin_catalogues, name="admin-catalogues"),
    path("verwaltung/kataloge/<slug:kind>/", views.admin_catalogues, name="admin-catalogues"),
    path("verwaltung/kataloge/<slug:kind>/neu/", views.admin_catalogue_edit, name="admin-catalogue-new"),
    path("verwaltung/kataloge/<slug:kind>/<int:pk>/", views.admin_catalogue_edit, name="admin-catalogue-edit"),
    path("protokoll/", views.audit_trail, name="audit-trail"),
    path("konto/api-zugaenge/", api_pages.tokens, name="api-tokens"),
    path("konto/api-zugaenge/<int:pk>/widerrufen/", api_pages.token_revoke, name="api-token-revoke"),
    path("fallarbeit/", include("kim.casework.urls")),
    path("berichte/", include("kim.reports.urls")),
    path("daten/", include("kim.exchange.urls")),
    path("systemebene/", include("kim.system.urls")),
    path("stellen/", include("kim.staffing.urls")),
    path("datenschutz/", include("kim.privacy.urls")),
    path("modul3/", include("kim.residence.urls")),
    path("dokumente/", include("kim.privacy.documents.urls")),
    path("land/", include("kim.state_statistics.urls")),
    path("api/v1/", include("kim.api.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]

handler404 = "kim.api.errors.not_found"
