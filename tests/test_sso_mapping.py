"""The mapping of directory groups to roles never lets a group grant a personal-data role
outside the provider it names: refused when it is made (service and command line), and refused
again at login when a mapping was written past the rule."""

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django_scopes import scopes_disabled

from kim.core.models import AuditEntry, Role
from kim.identity import services
from kim.identity.grants import AMBIGUOUS, INVALID, NOT_GRANTED, Refused, resolve
from kim.identity.models import DirectoryGroup, Source

from .factories import ProviderFactory

GROUP = "cn=kim-fachkraft,ou=gruppen,dc=kreis-aue,dc=de"


def add(world, role, provider=None, group=GROUP, source=Source.LDAP):
    with scopes_disabled():
        return services.add_group(None, source=source, group=group, district=world.district, role=role,
                                  provider=provider)


@pytest.mark.parametrize("role", [Role.CASE_MANAGER, Role.PROVIDER_LEAD])
def test_a_personal_data_role_needs_a_provider_of_the_same_district(world, role):
    with pytest.raises(ValidationError) as without:
        add(world, role)
    assert "provider" in without.value.message_dict
    foreign = ProviderFactory(district=world.other_district, name="AWO Berg 2", slug="awo-2")
    with pytest.raises(ValidationError) as other_district:
        add(world, role, foreign)
    assert "provider" in other_district.value.message_dict
    assert not DirectoryGroup.objects.exists()
    mapping = add(world, role, world.provider)
    assert resolve(Source.LDAP, [GROUP.upper()]).provider_id == world.provider.pk  # DNs compare without case
    with scopes_disabled():
        entry = AuditEntry.objects.get(object_type="identity.directorygroup")
    assert entry.action == "create" and entry.object_id == str(mapping.pk)


@pytest.mark.parametrize("role", [Role.COORDINATION, Role.STEERING, Role.MODULE3, Role.DISTRICT_ADMIN])
def test_a_figures_only_role_names_no_provider(world, role):
    with pytest.raises(ValidationError):
        add(world, role, world.provider)
    assert add(world, role).provider is None


def test_no_group_grants_the_lands_role(world):
    with pytest.raises(ValidationError) as refused:
        add(world, Role.STATE)
    assert "role" in refused.value.message_dict
    assert not DirectoryGroup.objects.exists()


def test_a_group_grants_one_thing_only(world):
    add(world, Role.COORDINATION)
    with pytest.raises(ValidationError):
        add(world, Role.STEERING)


def test_a_mapping_written_past_the_rule_grants_nothing_at_login(world):
    """A row put into the database by hand (no clean): the login checks the rule again."""
    foreign = ProviderFactory(district=world.other_district, name="AWO Berg 3", slug="awo-3")
    for provider, role in [(None, Role.CASE_MANAGER), (foreign, Role.PROVIDER_LEAD), (world.provider, Role.STEERING)]:
        DirectoryGroup.objects.all().delete()
        DirectoryGroup.objects.create(source=Source.LDAP, group=GROUP, district=world.district, role=role,
                                      provider=provider)
        with pytest.raises(Refused) as refused:
            resolve(Source.LDAP, [GROUP])
        assert refused.value.message == INVALID


def test_no_group_or_two_grants_are_refused(world):
    add(world, Role.COORDINATION)
    add(world, Role.CASE_MANAGER, world.provider, group="/kim/fachkraft", source=Source.OIDC)
    add(world, Role.STEERING, group="/kim/lenkung", source=Source.OIDC)
    with pytest.raises(Refused) as none:
        resolve(Source.OIDC, [GROUP])  # an LDAP group means nothing to OIDC
    assert none.value.message == NOT_GRANTED
    with pytest.raises(Refused) as two:
        resolve(Source.OIDC, ["/kim/fachkraft", "/kim/lenkung"])
    assert two.value.message == AMBIGUOUS


def test_the_operator_maps_lists_and_removes_groups_on_the_command_line(world, capsys):
    call_command("directory_groups", "add", "--source", "ldap", "--group", GROUP, "--district", world.district.slug,
                 "--role", "case_manager", "--provider", "caritas")
    assert "gewährt im Kreis" in capsys.readouterr().out
    with pytest.raises(CommandError, match="muss den Träger nennen"):
        call_command("directory_groups", "add", "--source", "oidc", "--group", "/kim/x", "--district",
                     world.district.slug, "--role", "provider_lead")
    with pytest.raises(CommandError, match="anderen Kreis"):
        call_command("directory_groups", "add", "--source", "oidc", "--group", "/kim/y", "--district",
                     world.district.slug, "--role", "case_manager", "--provider", "awo")
    call_command("directory_groups", "list")
    assert GROUP.lower() in capsys.readouterr().out
    call_command("directory_groups", "remove", "--source", "ldap", "--group", GROUP)
    assert "Zuordnung entfernt" in capsys.readouterr().out
    assert not DirectoryGroup.objects.exists()
    with scopes_disabled():
        assert AuditEntry.objects.filter(object_type="identity.directorygroup", action="delete").count() == 1
