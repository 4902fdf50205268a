"""Form helpers: every form renders with the KERN UX classes and accessible error links."""

from django import forms
from django.utils.translation import gettext_lazy as _
from django_scopes import scopes_disabled

from .models import District, Municipality, Provider, User

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


class ScopeSafeModelFormMetaclass(forms.models.ModelFormMetaclass):
    # Django builds choice fields when the class is defined, outside any district scope.
    def __new__(mcs, *args, **kwargs):
        with scopes_disabled():
            return super().__new__(mcs, *args, **kwargs)


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
            if field.widget.attrs.get("data-kern"):
                continue
            widget = field.widget
            if isinstance(widget, forms.DateInput) and not isinstance(widget, DateInput):
                field.widget = widget = DateInput(attrs=widget.attrs)
            kind = type(widget).__name__.lower().replace("input", "").replace("widget", "")
            css = WIDGET_CLASSES.get(kind, "kern-form-input__input")
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()
            widget.attrs["data-kern"] = "1"
            if field.help_text:
                widget.attrs["aria-describedby"] = f"id_{self.add_prefix(name)}_hint"

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


class UserForm(KernModelForm):
    class Meta:
        model = User
        fields = ["username", "first_name", "last_name", "email", "role", "provider", "fte", "is_active"]

    def __init__(self, *args, district, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["provider"].queryset = Provider.objects.filter(district=district, active=True)
        self.fields["role"].required = True
        self.fields["first_name"].required = True
        self.fields["last_name"].required = True
        self.instance.district = district


class NewUserForm(UserForm):
    password = forms.CharField(
        label=_("Initial password"), widget=forms.PasswordInput(render_value=False),
        help_text=_("At least 10 characters. The user should change it after the first login."),
    )

    def clean_password(self):
        from django.contrib.auth.password_validation import validate_password

        password = self.cleaned_data["password"]
        validate_password(password, self.instance)
        return password


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

