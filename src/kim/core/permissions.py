"""Who may do what: every permission of the product, declared here and nowhere else.

Read it as two tables. PERMISSIONS says which roles hold each permission of the product (views
declare the permission they need with `kim.core.access.permission_required`). ACCOUNT_RULES says
who may do what to a staff account, because that decides who can reach personal data: an
account with a personal-data role (case manager, provider lead) is created, given its role,
provider and password only by the lead of that provider, or by an operator on the command line
(`kim create-user`) or in the operators' Django admin. The district administrator manages the
accounts that see figures only, and may switch any account of the district off or unlock it,
never on. Checks go through django-rules (`user.has_perm(name, obj)`), so templates can ask
`{% if perms.core.x %}` and tests can walk the tables.
"""

import rules

from .models import PERSONAL_DATA_ROLES, Role

CASE_MANAGER, LEAD = Role.CASE_MANAGER, Role.PROVIDER_LEAD
COORDINATION, STEERING, MODULE3, ADMIN = Role.COORDINATION, Role.STEERING, Role.MODULE3, Role.DISTRICT_ADMIN
STATE = Role.STATE
AGGREGATE_READERS = frozenset({COORDINATION, STEERING, MODULE3})
# Every role but the Land's, which has no district and reads the districts' extracts only.
DISTRICT_ROLES = frozenset(Role.values) - {STATE}

# ---------------------------------------------------------------- what each role may do
# permission                          roles that hold it
PERMISSIONS = {
    "casework.personal_data":          PERSONAL_DATA_ROLES,   # participants, cases, appointments
    "casework.lead_provider":          {LEAD},                # deputyships, confirmations, export
    "exchange.use":                    PERSONAL_DATA_ROLES,   # templates, import, subject access
    "exchange.import":                 PERSONAL_DATA_ROLES | {COORDINATION},  # import; coordination: "Stellen"
    "exchange.export_provider":        {LEAD},
    "reports.read":                    DISTRICT_ROLES,        # scope and suppression by role
    "reports.coordinate":              {COORDINATION},        # deadlines, papers, templates
    "reports.confirm_data":            {LEAD},                # the provider's data for a deadline
    "reports.read_papers":             AGGREGATE_READERS | {ADMIN},  # the district's papers
    "core.read_audit_trail":           {LEAD, ADMIN},
    "core.administer_district":        {ADMIN},               # settings, organisation, catalogues
    "core.manage_staff":               {ADMIN, LEAD},         # the account pages, see below
    "api.use":                         DISTRICT_ROLES,
    "system.report_need":              PERSONAL_DATA_ROLES,   # need reports from case work
    "system.coordinate":               {COORDINATION},        # triage, themes (module 1)
    "system.read":                     {COORDINATION, STEERING},  # themes, meetings, groups, measures
    "system.read_need_figures":        PERSONAL_DATA_ROLES | {COORDINATION, STEERING},  # R11
    "system.read_own_groups":          PERSONAL_DATA_ROLES | {MODULE3},  # groups one is a member of
    "system.read_directory":           PERSONAL_DATA_ROLES | AGGREGATE_READERS,  # service directory
    "staffing.read":                   {COORDINATION, STEERING, ADMIN},  # positions, funding, R8, R9
    "staffing.manage":                 {COORDINATION},        # positions, fillings, rates, import
    "staffing.read_names":             {COORDINATION, ADMIN},  # who fills a position: those who manage staff
    "residence.record":                {MODULE3},             # procedures, tallies: own offices only
    "residence.read_figures":          {MODULE3, COORDINATION, STEERING},  # R13, the §104c pipeline
    "residence.manage_offices":        {ADMIN},               # offices and their module 3 staff
    "privacy.overview":                {LEAD, ADMIN},         # the data-protection page of one's role
    "privacy.request_erasure":         {LEAD},                # erasure (Art. 17) of the provider's records
    "privacy.restrict":                {LEAD},                # restriction (Art. 18) of the provider's records
    "privacy.manage_retention":        {ADMIN},               # the district's retention periods
    "statistics.read_state":           {STATE},               # statewide reports from the extracts
    "statistics.import":               {STATE},               # upload a district's signed extract
}

# ---------------------------------------------------------------- who may grant which role
# granter     roles it may give an account     the account's provider
GRANTS = {
    ADMIN:    (AGGREGATE_READERS | {ADMIN},    "none"),          # figures only, no provider
    LEAD:     (PERSONAL_DATA_ROLES,            "own provider"),  # own staff only
}

# ---------------------------------------------------------------- what may be done to an account
# action                     district administrator          provider lead
ACCOUNT_RULES = {
    "core.change_account":   ("accounts without personal data", "own provider's staff"),
    "core.set_password":     ("accounts without personal data", "own provider's staff"),
    "core.deactivate":       ("every account of the district",  "own provider's staff"),
    "core.unlock":           ("every account of the district",  "own provider's staff"),
}


def holds(role: str, permission: str) -> bool:
    return role in PERMISSIONS[permission]


def roles_holding(permission: str) -> frozenset:
    return frozenset(PERMISSIONS[permission])


def grantable_roles(actor) -> frozenset:
    """The roles `actor` may give an account (empty for every other role)."""
    roles, _where = GRANTS.get(actor.role, (frozenset(), None))
    return frozenset(roles)


def may_grant(actor, role: str, provider_id) -> bool:
    """May `actor` give an account `role` at `provider_id` (None: no provider)?"""
    if actor.is_superuser:
        return True
    if not actor.is_active or actor.district_id is None or role not in grantable_roles(actor):
        return False
    _roles, where = GRANTS[actor.role]
    if where == "none":
        return provider_id is None
    return provider_id is not None and provider_id == actor.provider_id


# ---------------------------------------------------------------- predicates

@rules.predicate
def in_district(actor, account) -> bool:
    return actor.is_active and actor.district_id is not None and account.district_id == actor.district_id


@rules.predicate
def is_district_admin(actor) -> bool:
    return actor.role == ADMIN


@rules.predicate
def is_provider_lead(actor) -> bool:
    return actor.role == LEAD and actor.provider_id is not None


@rules.predicate
def account_without_personal_data(actor, account) -> bool:
    """Judged on what is stored, not on a form's new values: an account that sees personal
    data now stays out of the administrator's reach whatever a request says about it."""
    stored_role, stored_provider = account.stored_access()
    return stored_role not in PERSONAL_DATA_ROLES and stored_provider is None


@rules.predicate
def account_of_own_provider(actor, account) -> bool:
    _role, stored_provider = account.stored_access()
    return stored_provider is not None and stored_provider == actor.provider_id


WHO = {
    "accounts without personal data": is_district_admin & account_without_personal_data,
    "every account of the district": is_district_admin,
    "own provider's staff": is_provider_lead & account_of_own_provider,
}

def has_role_of(holders) -> rules.Predicate:
    holders = frozenset(holders)
    return rules.predicate(lambda user: user.is_active and user.role in holders and user.in_own_scope)


for _name, _holders in PERMISSIONS.items():
    rules.add_perm(_name, has_role_of(_holders))

for _name, (_by_admin, _by_lead) in ACCOUNT_RULES.items():
    rules.add_perm(_name, in_district & (WHO[_by_admin] | WHO[_by_lead]))
