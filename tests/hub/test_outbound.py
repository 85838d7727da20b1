import logging
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from hub.outbound import (
    OutboundBlocked,
    ResponseTooLarge,
    check_url,
    fetch_bytes,
    guarded_session,
    parse_allowed_hosts,
)


class Handler(BaseHTTPRequestHandler):
    def log_message(self, format, *args):
        pass

    def do_GET(self):
        self.server.hits[self.path] = self.server.hits.get(self.path, 0) + 1
        getattr(self, "route_" + self.path.strip("/").replace("-", "_"), self.not_found)()

    do_POST = do_PUT = do_DELETE = do_GET

    def reply(self, status, body=b"", headers=None):
        self.send_response(status)
        for name, value in (headers or {"Content-Length": str(len(body))}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def not_found(self):
        self.reply(404, b"not found")

    def route_ok(self):
        self.reply(200, b"hello", {"Content-Type": "text/plain", "Content-Length": "5"})

    def route_redirect_private(self):
        self.reply(302, headers={"Location": "http://10.0.0.1/", "Content-Length": "0"})

    def route_redirect_loop(self):
        self.reply(302, headers={"Location": "/redirect-loop", "Content-Length": "0"})

    def route_slow(self):
        time.sleep(0.5)
        self.reply(200, b"late")

    def route_slow_once(self):
        if self.server.hits[self.path] == 1:
            time.sleep(0.5)
        self.reply(200, b"answered")

    def route_big_with_length(self):
        self.reply(200, b"x" * 1000)

    def route_endless(self):
        # No Content-Length: the body runs until the connection closes.
        self.send_response(200)
        self.end_headers()
        try:
            for _ in range(1000):
                self.wfile.write(b"x" * 65536)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def route_flaky(self):
        if self.server.hits[self.path] <= 2:
            self.reply(503, b"busy")
        else:
            self.reply(200, b"finally")

    def route_unavailable(self):
        self.reply(503, b"busy")

    def route_too_many(self):
        self.reply(429, b"slow down", {"Retry-After": "0", "Content-Length": "9"})


@pytest.fixture
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.hits = {}
    thread = threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    httpd.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    yield httpd
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def allow_loopback(settings):
    settings.OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1:*"]


@pytest.fixture
def allow_nothing(settings):
    settings.OUTBOUND_ALLOWED_HOSTS = []


def fake_dns(monkeypatch, *addresses):
    def getaddrinfo(host, port, *args, **kwargs):
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port)) for address in addresses
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def test_an_allowed_loopback_server_can_be_reached(server, allow_loopback):
    response = guarded_session().get(server.url + "/ok")

    assert response.status_code == 200
    assert response.text == "hello"


def test_loopback_is_refused_when_it_is_not_allowed(server, allow_nothing):
    with pytest.raises(OutboundBlocked, match="127.0.0.1"):
        guarded_session().get(server.url + "/ok")

    assert server.hits == {}


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.1/",
        "http://192.168.1.10:8080/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/",
        "http://[fe80::1]/",
        "http://0.0.0.0/",
        "http://224.0.0.1/",
        "http://[::ffff:127.0.0.1]/",
        "http://[::ffff:169.254.169.254]/",
        "http://[2002:7f00:1::]/",
        "http://[64:ff9b::a00:1]/",
        "http://localhost/",
    ],
)
def test_non_public_addresses_are_refused(url, allow_nothing):
    with pytest.raises(OutboundBlocked, match="not a public address"):
        guarded_session().get(url)


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.com/file", "gopher://x/"])
def test_schemes_other_than_http_and_https_are_refused(url, allow_nothing):
    with pytest.raises(OutboundBlocked, match="only http and https"):
        guarded_session().get(url)


def test_a_public_address_passes_the_check(allow_nothing):
    check_url("https://93.184.216.34/path")
    check_url("http://[2606:4700:4700::1111]/")


def test_a_host_is_refused_when_any_of_its_addresses_is_private(monkeypatch, allow_nothing):
    fake_dns(monkeypatch, "93.184.216.34", "10.1.2.3")

    with pytest.raises(OutboundBlocked, match="10.1.2.3"):
        check_url("https://supplier.example/")


def test_allowed_networks_let_private_addresses_through(monkeypatch, settings):
    settings.OUTBOUND_ALLOWED_HOSTS = ["10.0.0.0/8"]

    check_url("http://10.9.9.9/")
    with pytest.raises(OutboundBlocked):
        check_url("http://192.168.0.1/")

    fake_dns(monkeypatch, "10.1.2.3", "10.200.0.1")
    check_url("https://supplier.internal/")
    fake_dns(monkeypatch, "10.1.2.3", "192.168.0.1")
    with pytest.raises(OutboundBlocked, match="192.168.0.1"):
        check_url("https://supplier.internal/")


def test_an_allowed_host_name_is_not_resolved(monkeypatch, settings):
    settings.OUTBOUND_ALLOWED_HOSTS = ["supplier.internal:8080"]
    fake_dns(monkeypatch, "10.1.2.3")

    check_url("http://Supplier.Internal:8080/")
    with pytest.raises(OutboundBlocked):
        check_url("http://other.internal/")


def test_an_unresolvable_host_raises_a_connection_error(monkeypatch, allow_nothing):
    def getaddrinfo(*args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)

    with pytest.raises(requests.ConnectionError, match="could not resolve"):
        guarded_session().get("https://nowhere.example/")


def test_the_refusal_message_leaves_out_credentials_and_query(allow_nothing):
    with pytest.raises(OutboundBlocked) as caught:
        guarded_session().get("http://user:hunter2@10.0.0.1:8080/token/abc?key=s3cret")

    message = str(caught.value)
    assert "10.0.0.1:8080" in message
    for secret in ("user", "hunter2", "abc", "s3cret"):
        assert secret not in message


def test_a_redirect_to_a_private_address_is_refused(server, allow_loopback):
    with pytest.raises(OutboundBlocked, match="10.0.0.1"):
        guarded_session().get(server.url + "/redirect-private")

    assert server.hits == {"/redirect-private": 1}


def test_redirects_stop_after_five_hops(server, allow_loopback):
    with pytest.raises(requests.TooManyRedirects):
        guarded_session().get(server.url + "/redirect-loop")

    assert server.hits["/redirect-loop"] == 6


def test_the_default_timeout_applies_when_the_caller_passes_none(server, allow_loopback, settings):
    settings.OUTBOUND_TIMEOUT = (1.0, 0.1)

    with pytest.raises(requests.Timeout):
        guarded_session().get(server.url + "/slow")


def test_a_timeout_from_the_caller_wins_over_the_default(server, allow_loopback, settings):
    settings.OUTBOUND_TIMEOUT = (1.0, 0.1)

    response = guarded_session().get(server.url + "/slow", timeout=5)

    assert response.text == "late"


def test_a_get_is_retried_on_503_until_it_succeeds(server, allow_loopback):
    response = guarded_session(retries=3).get(server.url + "/flaky")

    assert response.status_code == 200
    assert server.hits["/flaky"] == 3


def test_the_last_response_is_returned_when_retries_run_out(server, allow_loopback):
    response = guarded_session(retries=1).get(server.url + "/unavailable")

    assert response.status_code == 503
    assert server.hits["/unavailable"] == 2


def test_a_post_is_not_retried_by_default(server, allow_loopback):
    response = guarded_session(retries=3).post(server.url + "/unavailable", data=b"order")

    assert response.status_code == 503
    assert server.hits["/unavailable"] == 1


def test_a_post_is_retried_when_asked(server, allow_loopback):
    response = guarded_session(retries=1, retry_post=True).post(server.url + "/unavailable")

    assert response.status_code == 503
    assert server.hits["/unavailable"] == 2


def test_429_is_left_to_the_client(server, allow_loopback):
    response = guarded_session(retries=3).get(server.url + "/too-many")

    assert response.status_code == 429
    assert server.hits["/too-many"] == 1


def test_fetch_bytes_returns_the_body_and_content_type(server, allow_loopback):
    assert fetch_bytes(server.url + "/ok", max_bytes=5) == (b"hello", "text/plain")


def test_fetch_bytes_refuses_a_content_length_over_the_limit(server, allow_loopback):
    with pytest.raises(ResponseTooLarge, match="Content-Length 1000"):
        fetch_bytes(server.url + "/big-with-length", max_bytes=100)


def test_fetch_bytes_stops_reading_a_body_without_length_over_the_limit(server, allow_loopback):
    with pytest.raises(ResponseTooLarge, match="over the limit of 100000 bytes"):
        fetch_bytes(server.url + "/endless", max_bytes=100_000)


def test_fetch_bytes_raises_on_an_error_status(server, allow_loopback):
    with pytest.raises(requests.HTTPError):
        fetch_bytes(server.url + "/missing", max_bytes=100)


def test_fetch_bytes_uses_the_guard_too(server, allow_nothing):
    with pytest.raises(OutboundBlocked):
        fetch_bytes(server.url + "/ok", max_bytes=100)


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_an_idempotent_request_whose_answer_times_out_is_sent_again(
    server, allow_loopback, method
):
    response = guarded_session().request(method, server.url + "/slow-once", timeout=(1, 0.2))

    assert response.text == "answered"
    assert server.hits["/slow-once"] == 2


def test_a_post_whose_answer_times_out_is_never_sent_again(server, allow_loopback):
    with pytest.raises(requests.ReadTimeout):
        guarded_session(retry_post=True).post(server.url + "/slow-once", timeout=(1, 0.2))

    assert server.hits["/slow-once"] == 1


def test_a_read_timeout_that_outlasts_the_retries_is_still_a_timeout(
    server, allow_loopback
):
    with pytest.raises(requests.ReadTimeout):
        guarded_session(retries=1).get(server.url + "/slow", timeout=(1, 0.1))

    assert server.hits["/slow"] == 2


# -- ports of allowed hosts ----------------------------------------------------------------


def allowed(url):
    try:
        check_url(url)
    except OutboundBlocked:
        return False
    return True


def test_a_bare_allowed_host_opens_only_ports_80_and_443(settings):
    settings.OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1", "localhost", "10.0.0.0/8"]

    for host in ("127.0.0.1", "localhost", "10.1.2.3"):
        assert allowed(f"http://{host}/") and allowed(f"https://{host}/")
        assert allowed(f"http://{host}:443/")
        # PostgreSQL and Redis on an allowed loopback stay closed.
        for port in (5432, 6379, 8001):
            assert not allowed(f"http://{host}:{port}/"), (host, port)


def test_an_allowed_host_with_a_port_opens_that_port_only(settings):
    settings.OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1:8001", "localhost:8001", "[::1]:8001",
                                       "10.0.0.0/8:8443"]

    assert allowed("http://127.0.0.1:8001/ovs")
    assert allowed("http://localhost:8001/")
    assert allowed("http://[::1]:8001/")
    assert allowed("https://10.9.9.9:8443/")
    for url in ("http://127.0.0.1/", "http://127.0.0.1:5432/", "http://localhost:6379/",
                "http://[::1]/", "https://10.9.9.9/"):
        assert not allowed(url), url


def test_a_star_opens_every_port_of_the_host(server, settings):
    settings.OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1:*"]

    assert guarded_session().get(server.url + "/ok").status_code == 200
    assert allowed("http://127.0.0.1:5432/")
    assert not allowed("http://10.0.0.1:5432/")


def test_the_refusal_names_the_entry_that_would_allow_it(settings):
    settings.OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]

    with pytest.raises(OutboundBlocked, match="127.0.0.1:5432"):
        check_url("http://127.0.0.1:5432/")


@pytest.mark.parametrize("entry", ["127.0.0.1:http", "127.0.0.1:0", "localhost:70000",
                                   "[::1]x", "[::1]:"])
def test_a_malformed_entry_is_refused(entry):
    with pytest.raises(ValueError, match="OUTBOUND_ALLOWED_HOSTS"):
        parse_allowed_hosts([entry])


# -- query strings never reach a log line -----------------------------------------------


def test_outbound_requests_log_no_query_string(server, allow_loopback, caplog):
    caplog.set_level(logging.DEBUG)

    guarded_session(retries=1).get(server.url + "/unavailable?api_key=s3cret&x=1")

    assert "/unavailable" in caplog.text
    assert "s3cret" not in caplog.text
    assert "api_key" not in caplog.text


def test_a_failed_outbound_request_logs_no_query_string(allow_loopback, caplog):
    caplog.set_level(logging.DEBUG)
    logger = logging.getLogger("integrations.services")

    try:
        guarded_session(retries=1).get("http://127.0.0.1:9/login?token=s3cret")
    except requests.ConnectionError:
        logger.exception("Sync failed")

    assert "Sync failed" in caplog.text and "/login" in caplog.text
    assert "s3cret" not in caplog.text


def test_request_log_lines_carry_no_query_string(caplog):
    caplog.set_level(logging.INFO)

    logging.getLogger("gunicorn.access").info(
        '%s "%s" %s', "127.0.0.1", "GET /api/products?search=s3cret&limit=5 HTTP/1.1", 200
    )
    logging.getLogger("werkzeug").info(
        '"GET https://hub.example.com/api/push?token=s3cret HTTP/1.1" 200 -'
    )

    assert "GET /api/products HTTP/1.1" in caplog.text
    assert "https://hub.example.com/api/push HTTP/1.1" in caplog.text
    assert "s3cret" not in caplog.text
