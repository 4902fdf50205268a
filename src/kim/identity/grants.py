"""From a person's directory groups to what the person may do in KIM: exactly one role (with
its provider) in exactly one district, or a refusal with a German message."""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .models import DirectoryGroup, Source

NOT_GRANTED = _("Your directory account has no access to the KIM database. Ask your district's administration "
                "to add you to a KIM group of the directory.")
AMBIGUOUS = _("Your directory groups grant more than one role in the KIM database. Ask your district's IT to "
              "keep you in one KIM group only.")
INVALID = _("The KIM group of your directory account is configured wrongly. Ask your district's IT.")
NAME_TAKEN = _("A local account of this user name already exists in the KIM database. Log in with its "
               "password, or ask the administration to rename it before you log in through the directory.")
DEACTIVATED = _("Your account has been deactivated in the KIM database.")
NO_LONGER = _("Your directory account no longer has access to the KIM database. You have been logged out.")
UNREACHABLE = _("The directory cannot be reached. You have been logged out; please try again later.")
UNREACHABLE_LOGIN = _("The directory cannot be reached, so your password cannot be checked. Please try again "
                      "later; this attempt does not count as a failed login.")
SESSION_ENDED = _("Your single sign-on session has ended. Please log in again.")
CHANGED = _("Your role in the directory has changed. Please log in again.")


class Refused(Exception):
    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


@dataclass(frozen=True)
class Grant:
    district_id: int
    role: str
    provider_id: int | None

    def held_by(self, user) -> bool:
        return (user.district_id, user.role, user.provider_id) == (self.district_id, self.role, self.provider_id)


def normalised(source: str, group: str) -> str:
    """LDAP compares DNs without regard to case; OIDC claim values are compared as they are."""
    group = group.strip()
    return group.lower() if source == Source.LDAP else group


def group_names(groups) -> list[str]:
    """The groups of a claim (a list of strings, or one string; none where it is missing) or of an
    LDAP entry (a set of DNs). Any
    other shape (a number, true, an object, nested lists) is refused, never read by its keys or
    its string form."""
    if groups is None:
        return []
    if isinstance(groups, str):
        return [groups]
    if isinstance(groups, (list, tuple, set, frozenset)) and all(isinstance(group, str) for group in groups):
        return list(groups)
    raise Refused(INVALID)


def resolve(source: str, groups) -> Grant:
    """The one grant `groups` give, checked again against the rule (a mapping written past
    DirectoryGroup.clean, by hand in the database, still grants no personal-data role outside
    the provider it names)."""
    names = {normalised(source, g) for g in group_names(groups)}
    mappings = list(DirectoryGroup.objects.filter(source=source, group__in=names)
                    .select_related("district", "provider"))
    grants = {(m.district_id, m.role, m.provider_id): m for m in mappings}
    if not grants:
        raise Refused(NOT_GRANTED)
    if len(grants) > 1:
        raise Refused(AMBIGUOUS)
    (mapping,) = grants.values()
    try:
        mapping.clean()
    except ValidationError as exc:
        raise Refused(INVALID) from exc
    return Grant(mapping.district_id, mapping.role, mapping.provider_id)
