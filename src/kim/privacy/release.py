"""What a release from confidentiality (Schweigepflichtentbindung) covers: categories of a
participant's data, each a fixed list of fields. A transfer, a referral handed over inside
the product and a referral letter carry exactly the released categories, nothing else."""

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# key: (label, {model: fields})
CATEGORIES = {
    "identity": (_("Name, date of birth and gender"), {
        "participant": ["first_name", "last_name", "birth_date", "gender"]}),
    "contact": (_("Address, phone and e-mail"), {
        "participant": ["address", "phone", "email"]}),
    "background": (_("Nationality, languages, entry and residence status"), {
        "participant": ["nationalities", "languages", "entry_date", "residence_status"]}),
    "case": (_("Course of the case, goals and plan"), {
        "case": ["kind", "phase", "target_group", "referral_source", "opened_on", "closed_on"],
        "goal": ["category", "text", "agreed_on", "due_on", "status", "status_changed_on"],
        "planaction": ["description", "responsible", "due_on", "done_on"]}),
    "assessment": (_("Assessment of the life situation"), {
        "assessment": ["kind", "assessed_on", "summary"],
        "assessmentitem": ["life_domain", "situation", "resources", "wishes", "need"]}),
    "appointments": (_("Appointments and their topics"), {
        "appointment": ["kind", "date", "duration_minutes", "place", "topics", "language_support"]}),
}


def category_choices():
    return [(key, label) for key, (label, _fields) in CATEGORIES.items()]


def releases_towards(participant, target, on=None):
    """The participant's consents in force on `on` that release towards `target` (a referral
    target of the district, which may stand for a provider)."""
    on = on or timezone.localdate()
    return participant.consents.filter(released_to=target, given_on__lte=on).filter(
        Q(withdrawn_on__isnull=True) | Q(withdrawn_on__gt=on))


def released_categories(participant, target, on=None) -> set[str]:
    """The categories released towards `target`, over all consents in force."""
    categories = set()
    for consent in releases_towards(participant, target, on):
        categories.update(key for key in consent.released_categories if key in CATEGORIES)
    return categories
