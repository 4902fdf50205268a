from django import template

from kim.privacy.models import Erasure

register = template.Library()


@register.simple_tag
def pending_erasure(participant):
    """The participant's erasure awaiting its review window, if any."""
    return Erasure.objects.filter(participant=participant, status=Erasure.Status.PENDING).first()
