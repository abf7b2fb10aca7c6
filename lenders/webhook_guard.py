"""Where a webhook may point: never inside the portal's own network (SSRF).

One rule, used when a manager saves the URL (page and API) and again at every delivery:
- ``https`` only (plain ``http`` only with ``DEBUG`` on: ``settings.WEBHOOK_ALLOW_HTTP``), a host name, no user:password part;
- the host resolves, and EVERY address it resolves to is public: no loopback, private, link-local
  (169.254.169.254, the cloud metadata service), multicast, reserved or unspecified address — IPv6
  and IPv4-mapped IPv6 included;
- unless ``settings.WEBHOOK_ALLOW_PRIVATE_HOSTS`` (off by default, also under DEBUG; the test suite
  turns it on where it posts to its local receiver).

At delivery the host is resolved once, checked, and the connection is made to that checked
address (TLS still verifies the certificate for the host name), so a DNS answer that changes
between the check and the connection (DNS rebinding) cannot redirect the POST.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _


class WebhookURLRefused(Exception):
    """The URL may not be used; ``message`` is the Chinese reason shown to the manager."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class CheckedTarget:
    scheme: str
    host: str
    port: int
    path: str
    address: str  # the checked IP address to connect to


def _address_is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not (
        ip.is_loopback
        or ip.is_private
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


def _resolve(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError):
        raise WebhookURLRefused(_("推送地址的域名无法解析，请检查地址。")) from None
    return list(dict.fromkeys(info[4][0] for info in infos))


def webhook_target(url: str) -> CheckedTarget:
    """Check ``url`` by the rule above and return where to connect; raise :class:`WebhookURLRefused`."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise WebhookURLRefused(_("推送地址格式不正确。")) from None
    allowed = ("https", "http") if getattr(settings, "WEBHOOK_ALLOW_HTTP", False) else ("https",)
    if parts.scheme not in allowed:
        raise WebhookURLRefused(_("推送地址必须以 https:// 开头。"))
    if not parts.hostname:
        raise WebhookURLRefused(_("推送地址缺少主机名。"))
    if parts.username or parts.password:
        raise WebhookURLRefused(_("推送地址不能包含用户名或密码。"))
    port = port or (443 if parts.scheme == "https" else 80)
    addresses = _resolve(parts.hostname, port)
    if not addresses:
        raise WebhookURLRefused(_("推送地址的域名无法解析，请检查地址。"))
    if not getattr(settings, "WEBHOOK_ALLOW_PRIVATE_HOSTS", False) and not all(
        _address_is_public(a) for a in addresses
    ):
        raise WebhookURLRefused(_("推送地址不能指向内部网络、本机或保留地址，请使用贵行系统的公网地址。"))
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return CheckedTarget(scheme=parts.scheme, host=parts.hostname, port=port, path=path, address=addresses[0])


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, target: CheckedTarget, timeout: float):
        super().__init__(target.host, target.port, timeout=timeout)
        self._address = target.address

    def connect(self):
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, target: CheckedTarget, timeout: float):
        super().__init__(target.host, target.port, timeout=timeout)
        self._address = target.address

    def connect(self):
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def webhook_connection(target: CheckedTarget, *, timeout: float) -> http.client.HTTPConnection:
    """A connection to the checked address (Host header and TLS name stay the URL's host)."""
    cls = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    return cls(target, timeout)
