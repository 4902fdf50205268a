"""A forgotten password, reset by a link sent by e-mail: Django's own flow, offered only where
mail is configured (KIM_EMAIL_HOST). The new password is set through the audited service, which
also lifts a lock after failed logins; the user then logs in as usual (second factor included)."""

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import PasswordResetForm, SetPasswordForm
from django.http import Http404
from django.urls import path, reverse_lazy

from . import services
from .backends import directory_linked
from .forms import KernFormMixin


class ResetRequestForm(KernFormMixin, PasswordResetForm):
    def get_users(self, email):
        """No link for a directory account: its password is the directory's (Django already
        leaves out accounts without a usable password)."""
        return (user for user in super().get_users(email) if not directory_linked(user))


class ResetPasswordForm(KernFormMixin, SetPasswordForm):
    def save(self, commit=True):
        services.set_password(self.user, self.user, self.cleaned_data["new_password1"])
        return self.user


class MailConfiguredMixin:
    def dispatch(self, request, *args, **kwargs):
        if not settings.KIM_PASSWORD_RESET_BY_MAIL:
            raise Http404
        return super().dispatch(request, *args, **kwargs)


class RequestView(MailConfiguredMixin, auth_views.PasswordResetView):
    form_class = ResetRequestForm
    template_name = "registration/password_reset_form.html"
    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_subject.txt"
    success_url = reverse_lazy("password-reset-sent")


class SentView(MailConfiguredMixin, auth_views.PasswordResetDoneView):
    template_name = "registration/password_reset_sent.html"


class ConfirmView(MailConfiguredMixin, auth_views.PasswordResetConfirmView):
    form_class = ResetPasswordForm
    template_name = "registration/password_reset_confirm.html"
    success_url = reverse_lazy("password-reset-complete")


class CompleteView(MailConfiguredMixin, auth_views.PasswordResetCompleteView):
    template_name = "registration/password_reset_complete.html"


urlpatterns = [
    path("passwort-vergessen/", RequestView.as_view(), name="password-reset"),
    path("passwort-vergessen/gesendet/", SentView.as_view(), name="password-reset-sent"),
    path("passwort-vergessen/<uidb64>/<token>/", ConfirmView.as_view(), name="password-reset-confirm"),
    path("passwort-vergessen/fertig/", CompleteView.as_view(), name="password-reset-complete"),
]
