"""Staffing and funding: the positions the Land funds, who fills them from when to when, and
the rates by year that turn approved positions into the district's grant.

A position's state on a day is three figures, each its own record, because the papers
report them side by side and they do not add up: FTE approved (the position), FTE filled
(the fillings running that day) and FTE not yet filled (open vacancies: advertised, not
taken). Warendorf 2022: 14,00 approved, 7,62 filled, 2,88 not yet filled; the rest is
approved but not yet created or advertised."""

from datetime import date
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_scopes import ScopedManager

from kim.core.models import District, Municipality, Provider

FTE_DIGITS = {"max_digits": 5, "decimal_places": 2}
POSITIVE_FTE = [MinValueValidator(Decimal("0.01"), message=_("At least 0,01 FTE.")),
                MaxValueValidator(Decimal("100"), message=_("At most 100 FTE."))]


class Module(models.TextChoices):
    STRATEGIC = "1", _("Module 1: strategic overhead")
    CASE_MANAGEMENT = "2", _("Module 2: case management")
    OFFICES = "3", _("Module 3: foreigners' and naturalisation offices")


class Function(models.TextChoices):
    COORDINATION = "coordination", _("Coordination")
    ADMINISTRATION = "administration", _("Administrative assistance")
    CASE_MANAGEMENT = "case_management", _("Case management")
    THEMATIC = "thematic_case_management", _("Thematic case management")
    CM_COORDINATION = "case_management_coordination", _("Coordination of case management")
    FOREIGNERS_OFFICE = "foreigners_office", _("Foreigners' office")
    NATURALISATION_OFFICE = "naturalisation_office", _("Naturalisation office")


MODULE_OF = {
    Function.COORDINATION: Module.STRATEGIC, Function.ADMINISTRATION: Module.STRATEGIC,
    Function.CASE_MANAGEMENT: Module.CASE_MANAGEMENT, Function.THEMATIC: Module.CASE_MANAGEMENT,
    Function.CM_COORDINATION: Module.CASE_MANAGEMENT,
    Function.FOREIGNERS_OFFICE: Module.OFFICES, Function.NATURALISATION_OFFICE: Module.OFFICES,
}
# The positions whose holders carry a caseload (R10): the key of 27 is per case-management FTE.
CASELOAD_FUNCTIONS = (Function.CASE_MANAGEMENT,)


def running_on(day, start="starts_on", end="ends_on"):
    """Q: a record that runs on `day` (started on or before it, not ended before it)."""
    return Q(**{f"{start}__lte": day}) & (Q(**{f"{end}__isnull": True}) | Q(**{f"{end}__gte": day}))


class Position(models.Model):
    """A funded position (Stelle) of one function, in one town or across towns, at one employer."""

    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="+", verbose_name=_("district"))
    function = models.CharField(_("function"), max_length=40, choices=Function.choices)
    title = models.CharField(_("designation"), max_length=120, blank=True, help_text=_(
        "Optional, for example “MuKi-S” or “Sachgebietsleitung”."))
    municipality = models.ForeignKey(Municipality, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                     verbose_name=_("municipality"),
                                     help_text=_("Empty: across municipalities (kommunenübergreifend)."))
    employer = models.ForeignKey(Provider, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                 verbose_name=_("employer"), help_text=_("Empty: the district administration."))
    fte_approved = models.DecimalField(_("FTE approved"), validators=POSITIVE_FTE, **FTE_DIGITS)
    approved_from = models.DateField(_("approved from"))
    approved_until = models.DateField(_("approved until"), null=True, blank=True)
    # The funds of this position go on from the district to a town or provider (Troisdorf's
    # post, the welfare organisations' posts of external case management).
    passed_on_to = models.ForeignKey(Provider, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                     verbose_name=_("funds passed on to"))
    note = models.CharField(_("note"), max_length=300, blank=True)

    objects = ScopedManager(district="district")

    class Meta:
        ordering = ["function", "municipality__name", "pk"]
        verbose_name = pgettext_lazy("staffing", "position")
        verbose_name_plural = pgettext_lazy("staffing", "positions")
        constraints = [
            models.CheckConstraint(condition=Q(approved_until__isnull=True) | Q(approved_until__gte=models.F("approved_from")),
                                   name="position_approval_in_order",
                                   violation_error_message=_("The approval cannot end before it begins.")),
        ]

    def __str__(self):
        return self.audit_label

    @property
    def module(self):
        return MODULE_OF[self.function]

    @property
    def audit_label(self):
        parts = [self.get_function_display()]
        if self.title:
            parts.append(self.title)
        parts.append(str(self.municipality) if self.municipality_id else str(_("across municipalities")))
        return " – ".join(parts)[:120]

    def approved_on(self, day) -> bool:
        return self.approved_from <= day and (self.approved_until is None or self.approved_until >= day)


class Filling(models.Model):
    """Who fills how much of a position from when to when (the staffing history). A holder
    without an account (staff of a town or provider that does not use the product) is named
    in words, or not at all."""

    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="+", verbose_name=_("district"))
    position = models.ForeignKey(Position, on_delete=models.CASCADE, related_name="fillings",
                                 verbose_name=pgettext_lazy("staffing", "position"))
    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                               related_name="fillings", verbose_name=_("person (account)"))
    holder = models.CharField(_("person (without account)"), max_length=120, blank=True)
    fte = models.DecimalField(_("FTE filled"), validators=POSITIVE_FTE, **FTE_DIGITS)
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("until"), null=True, blank=True)

    objects = ScopedManager(district="district")

    class Meta:
        ordering = ["starts_on", "pk"]
        verbose_name = _("filling of a position")
        verbose_name_plural = _("fillings of positions")
        constraints = [
            models.CheckConstraint(condition=Q(ends_on__isnull=True) | Q(ends_on__gte=models.F("starts_on")),
                                   name="filling_in_order",
                                   violation_error_message=_("The filling cannot end before it begins.")),
        ]

    def __str__(self):
        return self.audit_label

    @property
    def audit_label(self):
        return f"{self.position.audit_label} ({self.fte})"[:120]

    def holder_name(self) -> str:
        if self.person_id:
            return self.person.get_full_name() or self.person.username
        return self.holder or str(_("not named"))


class Vacancy(models.Model):
    """A part of a position that is advertised and not yet filled (noch nicht besetzt)."""

    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="+", verbose_name=_("district"))
    position = models.ForeignKey(Position, on_delete=models.CASCADE, related_name="vacancies",
                                 verbose_name=pgettext_lazy("staffing", "position"))
    fte = models.DecimalField(_("FTE not yet filled"), validators=POSITIVE_FTE, **FTE_DIGITS)
    starts_on = models.DateField(_("advertised from"))
    ends_on = models.DateField(_("closed on"), null=True, blank=True,
                               help_text=_("Filled or withdrawn on this day; empty while open."))

    objects = ScopedManager(district="district")

    class Meta:
        ordering = ["starts_on", "pk"]
        verbose_name = _("vacancy")
        verbose_name_plural = _("vacancies")
        constraints = [
            models.CheckConstraint(condition=Q(ends_on__isnull=True) | Q(ends_on__gte=models.F("starts_on")),
                                   name="vacancy_in_order",
                                   violation_error_message=_("The vacancy cannot close before it opens.")),
        ]

    def __str__(self):
        return self.audit_label

    @property
    def audit_label(self):
        return f"{self.position.audit_label} ({self.fte})"[:120]


class Expense(models.TextChoices):
    PERSONNEL = "personnel", _("personnel costs per FTE")
    WORKPLACE = "workplace", _("workplace costs per FTE")
    EVENTS = "events", _("lump sum for events")
    MEASURES = "measures", _("lump sum for measures from the interface analysis")
    CONSULTING = "consulting", _("lump sum for external support and consulting")


PER_FTE = (Expense.PERSONNEL, Expense.WORKPLACE)
LUMP_SUMS = (Expense.EVENTS, Expense.MEASURES, Expense.CONSULTING)


class Rate(models.Model):
    """A funding rate of one year: per FTE of a function, or a lump sum of the district. The
    statewide default has no district; a district's own (from its notice of grant,
    Zuwendungsbescheid) replaces it for that district."""

    district = models.ForeignKey(District, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                 verbose_name=_("district"))
    year = models.PositiveSmallIntegerField(_("year"), validators=[MinValueValidator(2020), MaxValueValidator(2100)])
    expense = models.CharField(_("kind of expense"), max_length=20, choices=Expense.choices)
    function = models.CharField(_("function"), max_length=40, choices=Function.choices, blank=True)
    amount = models.DecimalField(_("amount (EUR)"), max_digits=10, decimal_places=2,
                                 validators=[MinValueValidator(Decimal("0"))])
    source = models.CharField(_("source"), max_length=300)

    class Meta:
        ordering = ["year", "expense", "function"]
        verbose_name = _("funding rate")
        verbose_name_plural = _("funding rates")
        constraints = [
            models.UniqueConstraint(fields=["district", "year", "expense", "function"], name="rate_unique_own",
                                    condition=Q(district__isnull=False),
                                    violation_error_message=_("There is already a rate for this year and expense.")),
            models.UniqueConstraint(fields=["year", "expense", "function"], name="rate_unique_default",
                                    condition=Q(district__isnull=True),
                                    violation_error_message=_("There is already a rate for this year and expense.")),
            models.CheckConstraint(
                condition=(Q(expense__in=PER_FTE) & ~Q(function="")) | (Q(expense__in=LUMP_SUMS) & Q(function="")),
                name="rate_function_iff_per_fte",
                violation_error_message=_("A rate per FTE names its function; a lump sum names none.")),
        ]

    def __str__(self):
        return self.audit_label

    @property
    def audit_label(self):
        what = self.get_expense_display() + (f" {self.get_function_display()}" if self.function else "")
        return f"{self.year}: {what}"[:120]


def year_bounds(year: int):
    return date(year, 1, 1), date(year, 12, 31)
