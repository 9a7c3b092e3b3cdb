import re

from django import template
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, pgettext

from tremplin.core import formatting
from tremplin.core.audit_labels import action_label as label_of_action
from tremplin.core.i18n import localized

register = template.Library()


@register.filter
def sms_link(url: str) -> str:
    """A link for a text message, without its final slash (the site redirects to it): a
    right-to-left SMS draws a final slash on the link's left, «/https://…». A mark after
    the slash would keep it in place, but phones take such marks into the link."""
    return url.removesuffix("/")


@register.filter
def money(amount):
    return formatting.format_money(amount)


@register.filter
def ldate(value, fmt="long"):
    return formatting.format_date(value, fmt)


@register.filter
def ldatetime(value, fmt="medium"):
    return formatting.format_datetime(value, fmt)


@register.filter(needs_autoescape=True)
def join_list(items, style="standard", autoescape=True):
    """``{{ tracks|join_list }}``: "A, B et C", "A وB وC"; ``join_list:"or"`` for alternatives.
    Each item is escaped (the language's separators hold no markup)."""
    escape = conditional_escape if autoescape else str
    return mark_safe(formatting.format_list([escape(item) for item in items], style))  # noqa: S308


@register.simple_tag
def list_separator():
    """Between the items of a list written in a loop (``{% if not forloop.last %}``): ``, ``
    in French, ``، `` in Arabic. ``join_list`` where the items hold no markup."""
    return pgettext("list separator", ", ")


@register.simple_tag
def colon():
    """After a label (``{% translate "Eligibility" %}{% colon %}``): ``:`` in English and
    Arabic, `` :`` in French, with a no-break space so it never starts a line."""
    return pgettext("after a label", ":")


@register.filter
def action_label(code):
    """``{{ event.action|action_label }}``: "Application withdrawn", in the reader's language."""
    return label_of_action(code)


@register.filter
def tr(obj, field):
    """``{{ school|tr:"name" }}``: the Arabic value on Arabic pages, else the French one."""
    return localized(obj, field)


@register.filter
def mask_cin(value):
    from tremplin.core.identifiers import mask_cin as mask

    return mask(value or "")


@register.filter
def ltr_code(value):
    """``{{ notice.cndp_authorisation|ltr_code }}``: a code of Latin letters and digits
    (``D-W-0412/2025``) kept left to right and on one line in an Arabic sentence, where its
    hyphens would break it, and reorder its parts, at the end of a phone's line."""
    from django.utils.html import format_html

    return format_html('<bdi dir="ltr" class="text-nowrap">{}</bdi>', value)


# An application's reference as ``references.make_reference`` writes it.
_REFERENCE = re.compile(r"\b[A-Z]{2,5}-[0-9]{2}-[0-9]{4,}\b")


@register.filter(needs_autoescape=True)
def references_kept_whole(text, autoescape=True):
    """``{{ problem.reason|references_kept_whole }}``: the text, escaped, each reference in it
    (``SMA-26-0042``) kept on one line and left to right: a phone's narrow line otherwise
    breaks it at a hyphen, and an Arabic sentence reorders its parts. For plain text only:
    markup already safe is not escaped, and a reference inside one of its attributes (a
    link's address) would get a tag."""
    escaped = str(conditional_escape(text) if autoescape else text)
    return mark_safe(  # noqa: S308 - escaped above; the reference is letters, digits and -
        _REFERENCE.sub(
            lambda match: f'<bdi dir="ltr" class="text-nowrap">{match.group()}</bdi>', escaped
        )
    )


@register.filter
def phone(value):
    """``{{ school.phone|phone }}``: ``+212528899000`` as Moroccans write it, ``05 28 89 90 00``."""
    from tremplin.core.identifiers import format_phone

    return format_phone(value or "")


@register.filter
def get_item(mapping, key):
    return mapping.get(key) if hasattr(mapping, "get") else None


@register.filter
def lang_of(text) -> str:
    """The language of a text someone typed (a motivation, a reason), from its letters, when
    it is not the page's: ``<dd{{ text|lang_of }}>`` gives `` lang="ar"`` for Arabic on a
    French page, `` lang="fr"`` for Latin letters on an Arabic one (French is the other
    language of Morocco's forms), else nothing: a screen reader reads it in the voice of
    its language, not in the page's."""
    arabic = sum(1 for c in str(text or "") if "\u0600" <= c <= "\u06ff" and c.isalpha())
    latin = sum(1 for c in str(text or "") if c.isascii() and c.isalpha())
    page = get_language() or "fr"
    if arabic > latin and page != "ar":
        return mark_safe(' lang="ar"')
    if latin > arabic and page == "ar":
        return mark_safe(' lang="fr"')
    return ""
