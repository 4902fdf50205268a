"""The application's settings with short bounds for Word template checks, for the test that
runs a real `kim worker` against a template that computes for ever."""

from kim.settings import *  # noqa: F403

KIM_TEMPLATE_CHECK_SECONDS = 4
