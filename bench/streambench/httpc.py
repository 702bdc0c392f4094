"""A small HTTP/1.1 client that times what a player feels.

It records when the request left, when the first body byte arrived and when the last
did; it hands each received chunk to a checker as it arrives, in one buffer that every
receive reuses (nothing is buffered whole, nothing is copied twice); it counts a stall
when no byte comes for `stall_secs` and gives up after `give_up_secs` without a byte.
No proxies, no redirects, no keep-alive.
"""

import json
import socket
import time
import urllib.parse

RECV = 1 << 20
HEAD_RECV = 64 * 1024  # the headers' reads: what they take of the body is compared by copy


class HttpError(Exception):
    """A request failed: refused, cut short, a wrong status or headers, or no bytes."""


class Result:
    def __init__(self):
        self.status = 0
        self.headers = {}
        self.t_sent = 0.0
        self.t_first = None  # first body byte
        self.t_end = 0.0
        self.length = 0  # body bytes received
        self.stalled = False
        self.body = None  # kept only without a sink

    @property
    def first_byte_s(self) -> float:
        return (self.t_first if self.t_first is not None else self.t_end) - self.t_sent


class _Conn:
    def __init__(self, sock, stall_secs, give_up_secs, result):
        self.sock = sock
        self.stall_secs = stall_secs
        self.give_up_secs = give_up_secs
        self.result = result
        self.buf = b""
        self.view = memoryview(bytearray(RECV))  # the body's receive buffer

    def _recv(self, into=None):
        """Bytes received (b"" at EOF), or with `into` how many it received into it."""
        gap = 0.0
        while True:
            try:
                data = self.sock.recv(HEAD_RECV) if into is None else self.sock.recv_into(into)
            except socket.timeout:
                self.result.stalled = True
                gap += self.stall_secs
                if gap >= self.give_up_secs:
                    raise HttpError(f"no byte for {gap:.0f} s") from None
                continue
            except OSError as e:
                raise HttpError(f"receiving: {e}") from None
            return data

    def fill(self) -> None:
        data = self._recv()
        if not data:
            raise HttpError("the server closed the connection early")
        self.buf += data

    def line(self) -> bytes:
        while b"\r\n" not in self.buf:
            if len(self.buf) > 65536:
                raise HttpError("a header line over 64 KiB")
            self.fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def some(self, limit: int):
        """Up to `limit` body bytes (empty at EOF): what the headers' reads left over,
        else a view of the receive buffer, valid until the next call."""
        if self.buf:
            out, self.buf = self.buf[:limit], self.buf[limit:]
            return out
        return self.view[:self._recv(self.view[:min(limit, RECV)])]


def split_url(url: str):
    parts = urllib.parse.urlsplit(url)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return parts.hostname, parts.port or 80, path


def request(url: str, method: str = "GET", *, first: int = None, last: int = None,
            body: bytes = None, content_type: str = None, sink=None,
            stall_secs: float = 10.0, give_up_secs: float = 120.0,
            connect_timeout: float = 10.0) -> Result:
    """One request. `first`/`last` send `Range: bytes=first-last` (`last` None: open
    ended). `sink(position, data)` gets each body chunk at its position in the body
    (a buffer it must not keep: the next chunk reuses it); without a sink the body is
    kept in `Result.body`."""
    host, port, path = split_url(url)
    result = Result()
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}:{port}", "Connection: close",
             "User-Agent: cinemahalal-stream-bench", "Accept: */*"]
    if first is not None:
        lines.append(f"Range: bytes={first}-{'' if last is None else last}")
    if body is not None:
        lines.append(f"Content-Length: {len(body)}")
        if content_type:
            lines.append(f"Content-Type: {content_type}")
    raw = ("\r\n".join(lines) + "\r\n\r\n").encode() + (body or b"")
    try:
        sock = socket.create_connection((host, port), timeout=connect_timeout)
    except OSError as e:
        raise HttpError(f"connecting to {host}:{port}: {e}") from None
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.settimeout(min(stall_secs, give_up_secs))
        result.t_sent = time.monotonic()
        try:
            sock.sendall(raw)
        except OSError as e:
            raise HttpError(f"sending: {e}") from None
        conn = _Conn(sock, min(stall_secs, give_up_secs), give_up_secs, result)
        status_line = conn.line().decode("latin-1")
        words = status_line.split(" ", 2)
        if len(words) < 2 or not words[0].startswith("HTTP/") or not words[1].isdigit():
            raise HttpError(f"not an HTTP answer: {status_line!r}")
        result.status = int(words[1])
        while True:
            line = conn.line()
            if not line:
                break
            name, _, value = line.decode("latin-1").partition(":")
            result.headers[name.strip().lower()] = value.strip()
        kept = [] if sink is None else None

        def deliver(data: bytes) -> None:
            if result.t_first is None:
                result.t_first = time.monotonic()
            if sink is not None:
                sink(result.length, data)
            else:
                kept.append(bytes(data))
            result.length += len(data)

        if method == "HEAD" or result.status in (204, 304) or 100 <= result.status < 200:
            pass
        elif "chunked" in result.headers.get("transfer-encoding", "").lower():
            while True:
                size_line = conn.line().split(b";", 1)[0].strip()
                try:
                    left = int(size_line, 16)
                except ValueError:
                    raise HttpError(f"bad chunk size {size_line!r}") from None
                if left == 0:
                    break
                while left:
                    data = conn.some(min(left, RECV))
                    if not data:
                        raise HttpError("the server closed the connection inside a chunk")
                    deliver(data)
                    left -= len(data)
                if conn.line():
                    raise HttpError("no CRLF after a chunk")
        elif "content-length" in result.headers:
            left = int(result.headers["content-length"])
            while left:
                data = conn.some(min(left, RECV))
                if not data:
                    raise HttpError(
                        f"the body ended {left} bytes short of its Content-Length")
                deliver(data)
                left -= len(data)
        else:
            while True:
                data = conn.some(RECV)
                if not data:
                    break
                deliver(data)
        result.t_end = time.monotonic()
        if kept is not None:
            result.body = b"".join(kept)
        return result
    finally:
        sock.close()


def json_request(url: str, method: str = "GET", payload=None, *, body: bytes = None,
                 content_type: str = None, give_up_secs: float = 120.0):
    """A JSON API call: (status, parsed body or None)."""
    if payload is not None:
        body = json.dumps(payload).encode()
        content_type = "application/json"
    r = request(url, method, body=body, content_type=content_type,
                give_up_secs=give_up_secs, stall_secs=give_up_secs)
    try:
        return r.status, json.loads(r.body) if r.body else None
    except ValueError:
        return r.status, None


def read_range(url: str, source, first: int, last: int, *, file_size: int,
               stall_secs: float, give_up_secs: float) -> Result:
    """GET bytes first..last (inclusive) and check them all against `source`.

    Raises HttpError unless the answer is a 206 for exactly that range, and
    source.WrongBytes on the first byte that differs."""
    r = request(url, first=first, last=last, sink=lambda pos, data: source.check(first + pos, data),
                stall_secs=stall_secs, give_up_secs=give_up_secs)
    want = f"bytes {first}-{last}/{file_size}"
    if r.status != 206:
        raise HttpError(f"status {r.status} for bytes={first}-{last}, not 206")
    if r.headers.get("content-range") != want:
        raise HttpError(f"Content-Range {r.headers.get('content-range')!r}, not {want!r}")
    if r.length != last - first + 1:
        raise HttpError(f"{r.length} bytes for a range of {last - first + 1}")
    return r


def read_whole(url: str, source, *, stall_secs: float, give_up_secs: float) -> Result:
    """GET the whole file (no Range) and check every byte."""
    r = request(url, sink=source.check, stall_secs=stall_secs, give_up_secs=give_up_secs)
    if r.status != 200:
        raise HttpError(f"status {r.status} for the whole file, not 200")
    if r.length != source.size:
        raise HttpError(f"{r.length} bytes for a file of {source.size}")
    return r
