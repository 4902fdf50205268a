from rest_framework.pagination import LimitOffsetPagination


class Pages(LimitOffsetPagination):
    """At most 500 records per request: a provider's data is not one response."""

    default_limit = 100
    max_limit = 500
