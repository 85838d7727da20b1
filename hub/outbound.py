"""The one guarded HTTP session for every outbound request of the hub.

Every client (supplier systems, storefronts, image downloads) builds its session with
`guarded_session()` so that timeouts, retries and the address guard are the same everywhere.
"""

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.exceptions import MaxRetryError, ReadTimeoutError
from urllib3.util import Retry
from urllib3.util.util import reraise

DEFAULT_TIMEOUT = (5.0, 30.0)
MAX_REDIRECTS = 5
ALLOWED_SCHEMES = ("http", "https")
NAT64_PREFIX = ipaddress.ip_network("64:ff9b::/96")
# Sending one of these twice has the effect of sending it once.
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})


class OutboundBlocked(Exception):
    """The hub refused to send a request to this URL."""


class ResponseTooLarge(Exception):
    """The response body is larger than the caller accepts."""


def _safe_url(parts) -> str:
    # Only scheme, host and port: user info, path and query may carry credentials.
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        port = ""
    return f"{parts.scheme}://{host}{port}"


def _is_public(ip) -> bool:
    if ip.version == 6:
        if ip.ipv4_mapped:
            return _is_public(ip.ipv4_mapped)
        if ip.sixtofour:
            return _is_public(ip.sixtofour)
        if ip in NAT64_PREFIX:
            return _is_public(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    # is_global alone lets some multicast and reserved ranges through.
    return ip.is_global and not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )


# The ports a bare OUTBOUND_ALLOWED_HOSTS entry opens: an allowed loopback for the sandbox
# must not open the database or the cache on the same address.
DEFAULT_PORTS = frozenset({80, 443})
ANY_PORT = "*"


@dataclass(frozen=True)
class AllowedHosts:
    """OUTBOUND_ALLOWED_HOSTS, parsed: host names and networks, each with its ports
    (None for every port)."""

    names: dict
    networks: list

    def allows_name(self, host, port):
        return host in self.names and _port_allowed(self.names[host], port)

    def allows_address(self, ip, port):
        return any(ip in network and _port_allowed(ports, port)
                   for network, ports in self.networks)


def _port_allowed(ports, port):
    return ports is None or port in ports


def _split_port(entry):
    """(host, port text or None): `host`, `host:port`, `[v6]`, `[v6]:port` or a bare v6."""
    if entry.startswith("["):
        host, bracket, rest = entry[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            raise ValueError(f"OUTBOUND_ALLOWED_HOSTS: {entry} is not [address] or [address]:port")
        return host, rest[1:] if rest else None
    if entry.count(":") == 1:
        host, _, port = entry.partition(":")
        return host, port
    return entry, None


def parse_allowed_hosts(entries) -> AllowedHosts:
    """Parse entries such as `127.0.0.1:8001`, `localhost:*`, `10.0.0.0/8`, `[::1]:8001`.

    A bare entry opens ports 80 and 443 only; `:port` opens that port, `:*` every port.
    Raises ValueError naming the setting and the entry.
    """
    if isinstance(entries, str):
        entries = entries.split(",")
    names, networks = {}, []
    for entry in entries:
        entry = entry.strip().lower()
        if not entry:
            continue
        host, port = _split_port(entry)
        if port is None:
            ports = DEFAULT_PORTS
        elif port == ANY_PORT:
            ports = None
        elif port.isdigit() and 0 < int(port) < 65536:
            ports = frozenset({int(port)})
        else:
            raise ValueError(
                f"OUTBOUND_ALLOWED_HOSTS: {entry} has no valid port"
                " (give host, host:port or host:*)"
            )
        if not host:
            raise ValueError(f"OUTBOUND_ALLOWED_HOSTS: {entry} has no host")
        try:
            networks.append((ipaddress.ip_network(host, strict=False), ports))
        except ValueError:
            names[host.rstrip(".")] = ports
    return AllowedHosts(names, networks)


def _allowed_hosts() -> AllowedHosts:
    return parse_allowed_hosts(getattr(settings, "OUTBOUND_ALLOWED_HOSTS", None) or [])


def _resolve(host: str, port: int) -> list:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise requests.ConnectionError(f"could not resolve host {host!r}: {exc}") from None
    # Strip an IPv6 zone ("fe80::1%eth0") before parsing.
    return [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]


def check_url(url: str) -> None:
    """Raise OutboundBlocked unless the hub may send a request to this URL.

    An unresolvable host raises requests.ConnectionError, like any other network failure.
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        raise OutboundBlocked(f"refused {scheme or '(no scheme)'}:// URL: only http and https")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise OutboundBlocked(f"refused {_safe_url(parts)}: no host")
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError:
        raise OutboundBlocked(f"refused {_safe_url(parts)}: invalid port") from None

    allowed = _allowed_hosts()
    if allowed.allows_name(host, port):
        return
    for ip in _resolve(host, port):
        if ip.version == 6 and ip.ipv4_mapped:
            ip = ip.ipv4_mapped
        if _is_public(ip) or allowed.allows_address(ip, port):
            continue
        where = f"[{ip}]:{port}" if ip.version == 6 else f"{ip}:{port}"
        raise OutboundBlocked(
            f"refused {_safe_url(parts)}: {ip} is not a public address"
            f" (add {where} to OUTBOUND_ALLOWED_HOSTS to allow it)"
        )


class _Retry(Retry):
    """Retries a request whose answer did not come (a read timeout, a dropped connection)
    only when its method is idempotent: the server may have acted on it, and acting on a
    GET, PUT or DELETE twice does no harm, while a POST could create a duplicate."""

    def increment(self, method=None, url=None, response=None, error=None, _pool=None,
                  _stacktrace=None):
        if (error is not None and self._is_read_error(error)
                and (method or "").upper() not in IDEMPOTENT_METHODS):
            raise reraise(type(error), error, _stacktrace)
        return super().increment(method, url, response, error, _pool, _stacktrace)


class GuardedSession(requests.Session):
    """A session that checks the address of every request and redirect hop before sending.

    The host is resolved here and again when urllib3 connects, so a DNS answer that changes
    in between (DNS rebinding) is not caught; addresses are not pinned.
    """

    def __init__(self, *, retries: int = 3, retry_post: bool = False):
        super().__init__()
        self.max_redirects = MAX_REDIRECTS
        methods = Retry.DEFAULT_ALLOWED_METHODS
        if retry_post:
            methods = methods | {"POST"}
        retry = _Retry(
            total=retries,
            connect=retries,
            # Read timeouts: idempotent methods only (see _Retry).
            read=retries,
            status=retries,
            status_forcelist=(500, 502, 503, 504),
            allowed_methods=methods,
            backoff_factor=0.3,
            backoff_jitter=0.3,
            # Clients handle 429 and its Retry-After themselves.
            respect_retry_after_header=False,
            raise_on_status=False,
        )
        adapter = HTTPAdapter(max_retries=retry)
        self.mount("http://", adapter)
        self.mount("https://", adapter)

    def send(self, request, **kwargs):
        check_url(request.url)
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = tuple(getattr(settings, "OUTBOUND_TIMEOUT", DEFAULT_TIMEOUT))
        try:
            return super().send(request, **kwargs)
        except requests.ConnectionError as exc:
            # Read timeouts that outlasted the retries reach us as a connection error.
            cause = exc.args[0] if exc.args else None
            if isinstance(cause, MaxRetryError) and isinstance(cause.reason, ReadTimeoutError):
                raise requests.ReadTimeout(cause, request=request) from None
            raise


def guarded_session(*, retries: int = 3, retry_post: bool = False) -> GuardedSession:
    return GuardedSession(retries=retries, retry_post=retry_post)


def fetch_bytes(
    url: str, *, max_bytes: int, session=None, timeout=None
) -> tuple[bytes, str | None]:
    """GET a URL and return (body, content type), refusing bodies over max_bytes."""
    own_session = session is None
    if own_session:
        session = guarded_session()
    try:
        with session.get(url, stream=True, timeout=timeout) as response:
            response.raise_for_status()
            where = _safe_url(urlsplit(response.url))
            length = response.headers.get("Content-Length", "")
            if length.isdigit() and int(length) > max_bytes:
                raise ResponseTooLarge(
                    f"{where}: Content-Length {length} is over the limit of {max_bytes} bytes"
                )
            body = bytearray()
            for chunk in response.iter_content(chunk_size=64 * 1024):
                body += chunk
                if len(body) > max_bytes:
                    raise ResponseTooLarge(f"{where}: body is over the limit of {max_bytes} bytes")
            return bytes(body), response.headers.get("Content-Type")
    finally:
        if own_session:
            session.close()
