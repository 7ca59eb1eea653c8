"""The real urllib fetcher against a local HTTP server (127.0.0.1, no network beyond it)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from gongzhi.assets.domain.feeds import FetchError, pull_exchange, urllib_fetcher

BODY = (
    "类型,项目编号,转让方统一社会信用代码,资产编号,计价方式,挂牌价,挂牌日期\n"
    "挂牌,SZ-2026-201,91440309MA5FXX010C,A-0201,月租金,30000,2026-06-01\n"
).encode()


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path.startswith("/feed"):
            assert self.headers.get("Authorization") == "Bearer t0ken"
            self._send(200, BODY)
        elif self.path == "/big":
            self._send(200, b"x" * 2048)
        else:
            self._send(503, b"busy")

    def _send(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_pull_over_http(server: str) -> None:
    fetcher = urllib_fetcher(timeout=5, proxies={}, headers={"Authorization": "Bearer t0ken"})
    run = pull_exchange(server + "/feed?since=2026-06-01", fetcher=fetcher)
    assert run.ok and [r.external_id for r in run.records] == ["SZ-2026-201"]


def test_http_error_and_size_cap(server: str) -> None:
    with pytest.raises(FetchError, match="HTTP 503"):
        urllib_fetcher(timeout=5, proxies={})(server + "/other")
    with pytest.raises(FetchError, match="上限"):
        urllib_fetcher(timeout=5, proxies={}, max_bytes=1024)(server + "/big")
    run = pull_exchange(server + "/other", fetcher=urllib_fetcher(timeout=5, proxies={}))
    assert run.fatal is not None and run.fatal.reason == "对方系统返回错误：HTTP 503"


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.invalid/x.csv", "http:///nohost", "feed.csv"])
def test_only_http_urls(url: str) -> None:
    with pytest.raises(FetchError, match="只接受http或https"):
        urllib_fetcher()(url)
