"""HTTP pull for the feeds, through an injectable fetcher (tests pass a local fake).

A *fetcher* is any callable ``(url) -> bytes`` that raises :class:`FetchError` with a reason in
Chinese when the body cannot be had. :func:`urllib_fetcher` is the real one: http(s) only, a
timeout, a size cap, optional headers (an API token the app reads from its settings).
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from urllib.parse import urlsplit

__all__ = ["FetchError", "Fetcher", "urllib_fetcher"]

Fetcher = Callable[[str], bytes]

DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_BYTES = 64 * 1024 * 1024


class FetchError(Exception):
    """The body could not be fetched; ``str(error)`` is the reason in Chinese."""


def check_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise FetchError(f"地址无效，只接受http或https地址：{url[:200]}")


def urllib_fetcher(
    *,
    timeout: float = DEFAULT_TIMEOUT,
    max_bytes: int = DEFAULT_MAX_BYTES,
    headers: Mapping[str, str] | None = None,
    proxies: Mapping[str, str] | None = None,
) -> Fetcher:
    """A fetcher over ``urllib.request`` (GET, no redirects to other schemes, size-capped).

    ``proxies`` as for ``urllib.request.ProxyHandler``; ``None`` takes them from the environment
    (``https_proxy`` …), ``{}`` uses none.
    """
    handlers = [] if proxies is None else [urllib.request.ProxyHandler(dict(proxies))]
    opener = urllib.request.build_opener(*handlers)

    def fetch(url: str) -> bytes:
        check_url(url)
        request = urllib.request.Request(url, headers=dict(headers or {}), method="GET")  # noqa: S310 — scheme checked
        try:
            with opener.open(request, timeout=timeout) as response:
                final = response.geturl()
                check_url(final)
                body: bytes = response.read(max_bytes + 1)
        except urllib.error.HTTPError as exc:
            raise FetchError(f"对方系统返回错误：HTTP {exc.code}") from exc
        except urllib.error.URLError as exc:
            raise FetchError(f"无法连接对方系统：{exc.reason}") from exc
        except TimeoutError as exc:
            raise FetchError(f"连接对方系统超时（{timeout:g}秒）") from exc
        except OSError as exc:
            raise FetchError(f"读取对方系统数据失败：{exc.__class__.__name__}") from exc
        if len(body) > max_bytes:
            raise FetchError(f"数据超过{max_bytes // (1024 * 1024)} MB上限，未导入")
        return body

    return fetch


def fetch_or_reason(fetcher: Fetcher, url: str) -> bytes | str:
    """The body, or the reason in Chinese it could not be fetched (any fetcher error is caught)."""
    try:
        return fetcher(url)
    except FetchError as exc:
        return str(exc)
    except Exception as exc:  # a fetcher supplied by the caller may raise anything
        return f"获取数据失败：{exc.__class__.__name__}"
