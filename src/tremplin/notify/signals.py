"""What the outbox tells the rest of the platform."""

from django.dispatch import Signal

# A message was handed to its backend and recorded as sent: ``message`` (a ``Message``).
# Sent outside any transaction of the sender's; a receiver's error is logged, never
# raised: the message went, whatever a receiver does with the news.
message_sent = Signal()
