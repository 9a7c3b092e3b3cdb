"""The client's address behind TREMPLIN_PROXY_COUNT reverse proxies (audit log, login
throttling, the portal's limits): the entry the proxies wrote, never one the client wrote."""

import pytest
from django.test import RequestFactory

from tremplin.core.client_ip import client_ip


def request(forwarded: str | None = None, remote: str = "10.0.0.5"):
    extra = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    return RequestFactory().get("/", REMOTE_ADDR=remote, **extra)


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "41.250.10.20", "10.0.0.5"),  # no proxy: the header is the client's own words
        (1, "41.250.10.20", "41.250.10.20"),  # nginx appended the client's address
        (1, "6.6.6.6, 41.250.10.20", "41.250.10.20"),  # a forged first entry is skipped
        (2, "41.250.10.20, 172.16.0.9", "41.250.10.20"),  # a load balancer, then nginx
        (2, "41.250.10.20", "10.0.0.5"),  # fewer hops than proxies: the connection's
        (1, None, "10.0.0.5"),
        (1, "not-an-address", None),
        (1, "2001:db8::7", "2001:db8::7"),
        # An IPv4 client through a dual-stack proxy: its IPv4 address, not one /64 for all.
        (1, "::ffff:105.66.7.20", "105.66.7.20"),
        (0, None, "105.66.7.20"),
    ],
)
def test_the_client_is_the_entry_the_proxies_wrote(settings, proxies, forwarded, expected):
    settings.TREMPLIN_PROXY_COUNT = proxies
    remote = "::ffff:105.66.7.20" if forwarded is None and proxies == 0 else "10.0.0.5"
    assert client_ip(request(forwarded, remote=remote)) == expected


def test_login_throttling_and_the_audit_log_read_the_same_address(settings):
    from axes.helpers import get_client_ip_address

    settings.TREMPLIN_PROXY_COUNT = 1
    assert get_client_ip_address(request("6.6.6.6, 41.250.10.20")) == "41.250.10.20"
