"""The audit log: ``log_action`` records a domain event in the current transaction."""

import contextvars
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models

from tremplin.core.models import AuditEvent

# Set by AuditContextMiddleware for the duration of a request, so services record the IP
# without every call passing the request down.
current_ip: contextvars.ContextVar[str | None] = contextvars.ContextVar("current_ip", default=None)


def log_action(action: str, **fields: Any) -> AuditEvent:
    """Record ``action`` (a dotted code such as ``tremplin.team.member_added``); ``fields``
    as for ``audit_event`` (actor, school, obj, data, reason, ip_address).

    Call it inside the transaction that makes the change. ``actor`` None means the system
    (a task, a command); anonymous users are recorded as None too.
    """
    event = audit_event(action, **fields)
    event.save()
    return event


def audit_event(
    action: str,
    *,
    actor: Any = None,
    school: Any = None,
    obj: models.Model | None = None,
    data: dict[str, Any] | None = None,
    reason: str = "",
    ip_address: str | None = None,
) -> AuditEvent:
    """The event ``log_action`` records, not yet saved: for a caller that writes it with the
    change in one statement (``core.inserts.insert_family``). ``obj`` may be unsaved then:
    the statement fills ``object_id``."""
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    event = AuditEvent(
        actor=actor,
        school=school,
        action=action,
        data=data or {},
        reason=reason,
        ip_address=ip_address or current_ip.get(),
    )
    if obj is not None:
        event.content_type = ContentType.objects.get_for_model(obj)
        event.object_id = "" if obj.pk is None else str(obj.pk)
        event.object_repr = str(obj)[:200]
    return event
