"""Telling the person what happened, on the next page they see."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest


def refused(request: HttpRequest, error: ValidationError) -> None:
    """Show each message of a service's refusal (already in the person's language)."""
    for message in error.messages:
        messages.error(request, message)
