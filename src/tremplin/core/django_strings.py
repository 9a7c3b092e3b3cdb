"""Messages of Django itself that applicants read on the forms, translated again in the
project's catalogues (``LOCALE_PATHS`` come before Django's own): Django's Arabic addresses
the reader in the singular masculine (أدخِل), where the project's texts use the plural of
respect, and its "field" is not the word the forms use."""

from django.utils.translation import gettext_noop

DJANGO_MESSAGES = (
    gettext_noop("This field is required."),
    gettext_noop("Enter a valid email address."),
    gettext_noop("Enter a whole number."),
    gettext_noop("Select a valid choice. That choice is not one of the available choices."),
)
