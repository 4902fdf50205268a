"""The local login (user name and password) of Django's ModelBackend, with the one change that
every page needs: the user's district and provider come with the user from the session, in one
query, instead of one query each on every request (kim.core.middleware reads both)."""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend as DjangoModelBackend


class ModelBackend(DjangoModelBackend):
    def get_user(self, user_id):
        model = get_user_model()
        try:
            user = model._default_manager.select_related("district", "provider").get(pk=user_id)
        except model.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
