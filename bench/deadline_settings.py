"""Settings of the deadline-day benchmark: production settings plus the floor view's URL."""

from tremplin.settings import *  # noqa: F403

ROOT_URLCONF = "deadline_urls"
