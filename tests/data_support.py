"""Helpers for the data loader tests: isolation from the real folders and the
internet, zips built in memory, and an HTTP server on 127.0.0.1.

Import the fixtures into a test module (``from data_support import isolated,
server``) to use them; ``isolated`` is autouse there.
"""

from __future__ import annotations

import hashlib
import io
import socket
import struct
import threading
import time
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import fmlib.datasets as ds

_real_connect = socket.socket.connect
_LOOPBACK = {"127.0.0.1", "::1", "localhost"}


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def zip_bytes(members: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=compression) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def empty_members_zip(names) -> bytes:
    """A stored zip of empty members, built directly (zipfile's writer takes
    seconds for 200,000 members)."""
    local, central = bytearray(), bytearray()
    for name in names:
        encoded = name.encode("ascii")
        offset = len(local)
        # local header: signature, version, flags, method, time, date, crc,
        # sizes, name length, extra length
        local += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 0, 0, 0x21, 0, 0, 0,
                             len(encoded), 0) + encoded
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 0, 0,
                               0x21, 0, 0, 0, len(encoded), 0, 0, 0, 0, 0,
                               offset) + encoded
    count = len(names)
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, min(count, 0xFFFF),
                      min(count, 0xFFFF), len(central), len(local), 0)
    if count >= 0xFFFF:
        # zip64 end record and locator, for the member count
        zip64_end = struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, count,
                                count, len(central), len(local))
        locator = struct.pack("<IIQI", 0x07064B50, 0, len(local) + len(central), 1)
        end = zip64_end + locator + end
    return bytes(local + central + end)


def lie_about_sizes(archive: bytes, claimed: int) -> bytes:
    """The archive with every member's uncompressed size in its local and
    central headers replaced by ``claimed`` (what a hostile archive does)."""
    out = bytearray(archive)
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        start = 0
        while (start := out.find(signature, start)) >= 0:
            out[start + offset:start + offset + 4] = struct.pack("<I", claimed)
            start += 4
    return bytes(out)


def _loopback_only_connect(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6):
        host = address[0]
        if host not in _LOOPBACK:
            # Not an OSError, so the loader cannot turn it into a polite
            # DataUnavailableError and hide that a test went online.
            raise AssertionError(f"test tried to connect to {address!r}")
    return _real_connect(self, address)


def closed_port_url(path="/nothing-here.zip") -> str:
    # Bind then close: nothing listens on the port afterwards, so a
    # connection is refused at once.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}{path}"


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """Every test: user cache and project data/ in tmp_path, no
    FMLIB_DATA_HOME, download URLs on a closed local port, loopback only."""
    cache = tmp_path / "user-cache"
    project = tmp_path / "project-data"
    monkeypatch.setattr(ds, "_user_cache_dir", lambda: cache)
    monkeypatch.setattr(
        ds, "_project_data_dir", lambda: project if project.is_dir() else None
    )
    monkeypatch.delenv(ds.ENV_DATA_HOME, raising=False)
    monkeypatch.setattr(ds, "SMS_SPAM_URL", closed_port_url())
    monkeypatch.setattr(ds, "MOVIELENS_100K_URL", closed_port_url())
    monkeypatch.setattr(socket.socket, "connect", _loopback_only_connect)
    return {"cache": cache, "project": project}


class _Handler(BaseHTTPRequestHandler):
    # HTTP/1.0: the server closes the connection after each response.
    protocol_version = "HTTP/1.0"

    def do_GET(self):
        self.server.requests.append(self.path)
        route = self.server.routes.get(self.path)
        if route is None:
            self.send_error(404)
            return
        kind, body = route
        release = self.server.release
        try:
            if kind == "hang":
                # Connection accepted, request read, no answer ever.
                release.wait(30)
                return
            if kind == "trickle-headers":
                # A status line, then header bytes one at a time, forever.
                self.wfile.write(b"HTTP/1.0 200 OK\r\n")
                self.wfile.flush()
                while not release.is_set():
                    self.wfile.write(b"X")
                    self.wfile.flush()
                    release.wait(self.server.trickle_interval)
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/zip")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if kind == "ok":
                self.wfile.write(body)
            elif kind == "truncate":
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                self.close_connection = True
            elif kind == "trickle":
                # The body one byte at a time, each well within any timeout.
                for byte in body:
                    if release.is_set():
                        return
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    release.wait(self.server.trickle_interval)
            else:  # pragma: no cover
                raise ValueError(kind)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up, as it should

    def log_message(self, *args):
        pass


class LocalServer:
    def __init__(self):
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.routes = {}
        self.httpd.requests = []
        self.httpd.trickle_interval = 0.1
        self.httpd.release = threading.Event()
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def requests(self) -> list[str]:
        return self.httpd.requests

    def serve(self, path: str, kind: str, body: bytes = b"") -> str:
        self.httpd.routes[path] = (kind, body)
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}{path}"


@pytest.fixture
def server():
    srv = LocalServer()
    srv.thread.start()
    try:
        yield srv
    finally:
        srv.httpd.release.set()  # let any hanging handler return
        srv.httpd.shutdown()
        srv.httpd.server_close()
        srv.thread.join(5)


def elapsed(function, *args, **kwargs):
    """(seconds, exception or None) of one call."""
    start = time.monotonic()
    try:
        function(*args, **kwargs)
    except BaseException as exc:  # noqa: BLE001 - returned to the test
        return time.monotonic() - start, exc
    return time.monotonic() - start, None
