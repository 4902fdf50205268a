"""Form helpers: every form renders with the KERN UX classes and accessible error links."""

import re

from django import forms
from django.contrib.auth.forms import SetPasswordForm
from django.core.exceptions import NON_FIELD_ERRORS, FieldDoesNotExist, ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils.translation import gettext_lazy as _
from django.db import models
from django_scopes import scopes_disabled

from . import permissions
from .access import as_id
from .models import District, Municipality, Provider, Role, User

WIDGET_CLASSES = {
    "select": "kern-form-input__select",
    "selectmultiple": "kern-form-input__select",
    "checkbox": "kern-form-check__checkbox",
    "checkboxselectmultiple": "kern-form-check__checkbox",
    "radioselect": "kern-form-check__radio",
}


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


def default_choices(model):
    """Choices a model field offers before the form narrows them: the active district's
    organisation data and catalogues, and nothing of personal data or staff, so that a
    form that forgets to narrow its choices shows too few, never another's records."""
    if model._meta.app_label == "core" and model is not User:
        return model.objects.all()
    return model._base_manager.none()


def refuse_malformed_ids(field):
    """A choice of records answers "not a valid choice" for a value that is no id at all
    ("²", a 20-digit number) before the database sees it: SQLite raises OverflowError on
    an integer beyond 64 bits, which Django's choice fields do not catch (a 500)."""
    if getattr(field, "ids_guarded", False):
        return
    original = field.clean

    def clean(value):
        values = value if isinstance(value, (list, tuple)) else [value]
        for item in values:
            if item in (None, "") or isinstance(item, models.Model):
                continue
            if as_id(item, digits=18) is None:
                if isinstance(field, forms.ModelMultipleChoiceField):
                    raise ValidationError(field.error_messages["invalid_pk_value"], code="invalid_pk_value",
                                          params={"pk": str(item)[:40]})
                raise ValidationError(field.error_messages["invalid_choice"], code="invalid_choice")
        return original(value)

    field.clean = clean
    field.ids_guarded = True


class ScopeSafeModelFormMetaclass(forms.models.ModelFormMetaclass):
    # Django builds choice fields when the class is defined, outside any district scope.
    def __new__(mcs, *args, **kwargs):
        with scopes_disabled():
            return super().__new__(mcs, *args, **kwargs)


# Characters that turn the direction of the text after them: "\u202eNIMDA" is shown as "ADMIN",
# in pages and on the printed consent. Arabic and Farsi need none of them (the browser and the
# PDF set right-to-left text by itself), so they are refused in every text typed in.
DIRECTION_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")


def refuse_direction_controls(value):
    if isinstance(value, str) and DIRECTION_CONTROLS.search(value):
        raise ValidationError(_("The text contains invisible characters that reverse its direction (e.g. copied "
                                "from another program). Please type it again."), code="direction")


class KernFormMixin:
    """Adds KERN classes and ARIA attributes to every widget; forms stay plain Django."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field, forms.ModelChoiceField):
                field.queryset = default_choices(field.queryset.model)
        self.style_fields()

    def style_fields(self):
        """Idempotent: forms that add fields after __init__ call it again."""
        for name, field in self.fields.items():
            if isinstance(field, forms.ModelChoiceField):
                refuse_malformed_ids(field)
            if isinstance(field, forms.CharField) and refuse_direction_controls not in field.validators:
                field.validators.append(refuse_direction_controls)
            if field.widget.attrs.get("data-kern"):
                continue
            widget = field.widget
            if isinstance(widget, forms.DateInput) and not isinstance(widget, DateInput):
                field.widget = widget = DateInput(attrs=widget.attrs)
            kind = type(widget).__name__.lower().replace("input", "").replace("widget", "")
            css = WIDGET_CLASSES.get(kind, "kern-form-input__input")
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()
            widget.attrs["data-kern"] = "1"
            if isinstance(widget, forms.NumberInput):
                widget.attrs.update(self.numeric_bounds(name, field))
            if field.help_text:
                widget.attrs["aria-describedby"] = f"id_{self.add_prefix(name)}_hint"

    def numeric_bounds(self, name, field) -> dict:
        """min and max of a number field as the browser should offer them: the tightest bounds
        of the form field and of the model field behind it (whose validators a ModelForm does
        not pass on, so a duration of at least 5 minutes was offered from 0)."""
        validators = list(field.validators)
        model = getattr(getattr(self, "_meta", None), "model", None)
        if model is not None:
            try:
                validators += model._meta.get_field(name).validators
            except FieldDoesNotExist:
                pass
        lows = [v.limit_value for v in validators if isinstance(v, MinValueValidator) and not callable(v.limit_value)]
        highs = [v.limit_value for v in validators if isinstance(v, MaxValueValidator) and not callable(v.limit_value)]
        return {**({"min": max(lows)} if lows else {}), **({"max": min(highs)} if highs else {})}

    def full_clean(self):
        super().full_clean()
        for name in self.errors:
            if name in self.fields:
                widget = self.fields[name].widget
                widget.attrs["aria-invalid"] = "true"
                described = widget.attrs.get("aria-describedby", "")
                widget.attrs["aria-describedby"] = f"{described} id_{self.add_prefix(name)}_error".strip()
                widget.attrs["class"] += " " + widget.attrs["class"].split()[-1] + "--error"


class KernForm(KernFormMixin, forms.Form):
    pass


class KernModelForm(KernFormMixin, forms.ModelForm, metaclass=ScopeSafeModelFormMetaclass):
    pass


class AccountForm(KernModelForm):
    """A staff account as the actor may shape it: the roles offered are those the actor may
    grant (kim.core.permissions.GRANTS); a provider lead's accounts belong to the lead's own
    provider, the administrator's accounts have none. How much of a position a person fills is
    staffing (kim.staffing), kept by coordination."""

    class Meta:
        model = User
        fields = ["username", "first_name", "last_name", "email", "role", "is_active"]

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.actor = actor
        self.for_provider = permissions.GRANTS.get(actor.role, ((), "none"))[1] == "own provider"
        grantable = permissions.grantable_roles(actor)
        self.fields["role"].choices = [(value, label) for value, label in Role.choices if value in grantable]
        for name in ("role", "first_name", "last_name"):
            self.fields[name].required = True
        self.fields["is_active"].help_text = _(
            "An account that is not active cannot log in and its API tokens do not work; its records stay.")
        self.instance.district = actor.district
        self.instance.provider_id = actor.provider_id if self.for_provider else None

    def add_error(self, field, error):
        # The model's rules speak of the provider, which this form sets itself: show them on top.
        if isinstance(error, ValidationError) and hasattr(error, "error_dict"):
            for name in [name for name in error.error_dict if name not in self.fields]:
                error.error_dict.setdefault(NON_FIELD_ERRORS, []).extend(error.error_dict.pop(name))
        super().add_error(field, error)

    def account_values(self) -> dict:
        values = {name: self.cleaned_data[name] for name in self.fields if name != "password"}
        values["provider"] = self.actor.provider if self.for_provider else None
        return values


class NewAccountForm(AccountForm):
    password = forms.CharField(
        label=_("Initial password"), widget=forms.PasswordInput(render_value=False),
        help_text=_("At least 10 characters. The user should change it after the first login."),
    )

    def clean_password(self):
        from django.contrib.auth.password_validation import validate_password

        password = self.cleaned_data["password"]
        validate_password(password, self.instance)
        return password


class AccountPasswordForm(KernFormMixin, SetPasswordForm):
    """A new password for someone else's account (Django's form: twice, with the validators)."""


class DistrictSettingsForm(KernModelForm):
    class Meta:
        model = District
        fields = ["require_two_factor", "caseload_key", "suppression_k"]


class MunicipalityForm(KernModelForm):
    class Meta:
        model = Municipality
        fields = ["name", "active"]


class ProviderForm(KernModelForm):
    class Meta:
        model = Provider
        fields = ["name", "kind", "active"]


class CatalogueEntryForm(KernForm):
    label = forms.CharField(label=_("Label"), max_length=160)
    sort_order = forms.IntegerField(label=_("Order"), min_value=0, max_value=32000, initial=500)
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args, model=None, **kwargs):
        super().__init__(*args, **kwargs)
        if model is not None and model._meta.model_name == "referraltarget":
            # A partner that is a provider of the district: transfers and referrals can hand
            # released data over to it inside the product (kim.privacy.transfer).
            self.fields["provider"] = forms.ModelChoiceField(
                label=_("Provider in the KIM-Fachdatenbank"), queryset=Provider.objects.filter(active=True),
                required=False, help_text=_("Only if this partner is a provider of your district that works "
                                            "in the KIM-Fachdatenbank."))
            self.style_fields()

