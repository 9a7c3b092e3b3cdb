"""The client's IP address, for the audit log, login throttling and the portal's limits.

Behind ``TREMPLIN_PROXY_COUNT`` reverse proxies, each appends to ``X-Forwarded-For`` the
address it received the request from, so the client is the entry that many places from the
end; what comes before it was written by the client and proves nothing. Without proxies the
header is ignored and the address is the connection's (``REMOTE_ADDR``). A few lines rather
than django-ipware: its "proxy count" follows other conventions across versions, and axes,
which installs none, silently fell back to the proxy's address.
"""

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    proxies = settings.TREMPLIN_PROXY_COUNT
    address = request.META.get("REMOTE_ADDR")
    if proxies:
        hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        hops = [hop for hop in hops if hop]
        if len(hops) >= proxies:
            address = hops[-proxies]
    try:
        ip = ipaddress.ip_address(address) if address else None
    except ValueError:
        return None
    # An IPv4 client seen through a dual-stack socket or proxy (``::ffff:105.66.7.20``) is
    # that IPv4 address: as an IPv6 one, every such client would share one /64 limit.
    mapped = getattr(ip, "ipv4_mapped", None)
    return str(mapped or ip) if ip else None
