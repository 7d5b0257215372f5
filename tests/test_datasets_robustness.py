"""Issue 10, kind 7: the data loaders under hostile conditions.

File permissions of a download, data folder settings that name a file or a
folder that cannot be written, a huge file in a data folder, zip archives
that lie about their members or hold very many of them, bad timeouts, and a
server that trickles bytes. Everything runs offline: downloads come from an
HTTP server on 127.0.0.1 (see data_support.py).
"""

from __future__ import annotations

import math
import re
import os
import stat
import sys
import threading
import tracemalloc
import zipfile
from pathlib import Path

import pytest

import fmlib.datasets as ds
from data_support import (  # noqa: F401
    elapsed,
    empty_members_zip,
    isolated,
    lie_about_sizes,
    server,
    sha,
    zip_bytes,
)

CONTENT = b"ham\tsynthetic message\nspam\tWIN now\n"
CONTENT_SHA = sha(CONTENT)
GOOD_ZIP = zip_bytes({ds.SMS_SPAM_FILENAME: CONTENT})

LOADERS = {
    "sms": ds.load_sms_spam,
    "movielens": ds.load_movielens_100k,
}


@pytest.fixture
def sms_served(server, monkeypatch):
    """Serve a synthetic SMS archive at the module's URL, with its checksum."""

    def serve(archive=GOOD_ZIP, kind="ok"):
        url = server.serve("/sms.zip", kind, archive)
        monkeypatch.setattr(ds, "SMS_SPAM_URL", url)
        monkeypatch.setattr(ds, "SMS_SPAM_SHA256", CONTENT_SHA)
        return url

    return serve


def _no_download(monkeypatch):
    def fail(*args, **kwargs):
        pytest.fail("a download was attempted")

    monkeypatch.setattr(ds, "_download_bytes", fail)


# --------------------------------------------------------------------------
# Permissions of what is written
# --------------------------------------------------------------------------


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o027, 0o640), (0o002, 0o664)])
def test_download_gets_the_mode_the_umask_gives(sms_served, tmp_path, umask, mode):
    sms_served()
    old = os.umask(umask)
    try:
        ds.load_sms_spam(tmp_path, timeout=2)
    finally:
        os.umask(old)
    written = tmp_path / ds.SMS_SPAM_FILENAME
    assert stat.S_IMODE(written.stat().st_mode) == mode
    assert written.read_bytes() == CONTENT


def test_replaced_file_gets_the_umask_mode_too(tmp_path):
    dest = tmp_path / "file"
    dest.write_bytes(b"old")
    os.chmod(dest, 0o600)
    old = os.umask(0o022)
    try:
        ds._write_atomically(b"new", dest)
    finally:
        os.umask(old)
    assert dest.read_bytes() == b"new"
    assert stat.S_IMODE(dest.stat().st_mode) == 0o644
    assert os.listdir(tmp_path) == ["file"]


# --------------------------------------------------------------------------
# Data folder settings
# --------------------------------------------------------------------------


@pytest.mark.parametrize("loader", LOADERS)
def test_env_naming_a_file_fails_before_any_download(tmp_path, monkeypatch, loader):
    a_file = tmp_path / "not-a-folder.txt"
    a_file.write_text("x")
    monkeypatch.setenv(ds.ENV_DATA_HOME, str(a_file))
    _no_download(monkeypatch)
    with pytest.raises(ValueError) as info:
        LOADERS[loader]()
    message = str(info.value)
    assert ds.ENV_DATA_HOME in message and str(a_file) in message
    assert "not a folder" in message
    assert a_file.read_text() == "x"


@pytest.mark.parametrize("loader", LOADERS)
def test_data_home_naming_a_file_fails_before_any_download(tmp_path, monkeypatch, loader):
    a_file = tmp_path / "not-a-folder.txt"
    a_file.write_text("x")
    _no_download(monkeypatch)
    with pytest.raises(ValueError, match="data_home names .* not a folder"):
        LOADERS[loader](a_file)


def test_missing_folder_settings_are_fine(tmp_path, monkeypatch, sms_served):
    # a folder that does not exist yet is created by the download
    sms_served()
    monkeypatch.setenv(ds.ENV_DATA_HOME, str(tmp_path / "new" / "deeper"))
    ds.load_sms_spam(timeout=2)
    assert (tmp_path / "new" / "deeper" / ds.SMS_SPAM_FILENAME).read_bytes() == CONTENT


def _refuse_new_files(monkeypatch):
    real_open = os.open

    def read_only_open(path, flags, *args, **kwargs):
        if flags & os.O_CREAT:
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, flags, *args, **kwargs)

    def read_only_mkdir(path, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(os, "open", read_only_open)
    monkeypatch.setattr(os, "mkdir", read_only_mkdir)


@pytest.mark.parametrize("where", ["data_home", "env"])
@pytest.mark.parametrize("loader", LOADERS)
def test_read_only_folder_is_named_before_downloading(
    tmp_path, monkeypatch, server, loader, where
):
    folder = tmp_path / "shared-class-folder"
    folder.mkdir()
    url = server.serve("/data.zip", "ok", GOOD_ZIP)
    monkeypatch.setattr(ds, "SMS_SPAM_URL", url)
    monkeypatch.setattr(ds, "MOVIELENS_100K_URL", url)
    if where == "env":
        monkeypatch.setenv(ds.ENV_DATA_HOME, str(folder))
    _refuse_new_files(monkeypatch)
    with pytest.raises(ds.DataUnavailableError) as info:
        LOADERS[loader](folder if where == "data_home" else None, timeout=2)
    message = str(info.value)
    assert re.search("cannot (write into|create) the data folder", message)
    assert str(folder) in message
    assert "data_home" in message and ds.ENV_DATA_HOME in message
    assert ".part" not in message
    assert server.requests == []  # refused before downloading
    assert list(folder.iterdir()) == []


def test_unwritable_parent_of_a_missing_folder(tmp_path, monkeypatch):
    parent = tmp_path / "read-only"
    parent.mkdir()
    real_mkdir = Path.mkdir

    def refuse(self, *args, **kwargs):
        if self.parent == parent:
            raise PermissionError(13, "Permission denied", str(self))
        return real_mkdir(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", refuse)
    with pytest.raises(ds.DataUnavailableError, match="cannot create the data folder"):
        ds._check_writable(parent / "a" / "b")
    assert list(parent.iterdir()) == []


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_really_read_only_folder(tmp_path, server):
    # Root may write anywhere but on read-only file systems: as root, sysfs
    # (which refuses new files even to root) stands in for a read-only folder.
    if os.geteuid() == 0:
        folder = Path("/sys/fs")
        if not folder.is_dir():
            pytest.skip("no /sys/fs to stand in for a read-only folder")
    else:
        folder = tmp_path / "read-only"
        folder.mkdir()
        folder.chmod(0o555)
    url = server.serve("/data.zip", "ok", GOOD_ZIP)
    try:
        with pytest.raises(ds.DataUnavailableError) as info:
            ds._fetch(url, folder, CONTENT_SHA, timeout=2)
    finally:
        if folder.is_relative_to(tmp_path):
            folder.chmod(0o755)
    assert str(folder) in str(info.value) and "data_home" in str(info.value)
    assert server.requests == []
    assert not (folder / ds.SMS_SPAM_FILENAME).exists()


# --------------------------------------------------------------------------
# A huge file in a data folder
# --------------------------------------------------------------------------


@pytest.fixture
def open_spy(monkeypatch):
    """Records the paths the loader opens with the built-in open()."""
    opened = []
    real_open = open

    def spy(path, *args, **kwargs):
        opened.append(Path(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(ds, "open", spy, raising=False)
    return opened


def _sparse(path: Path, size: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        f.truncate(size)  # no disk space used, but stat says `size`
    return path


def test_huge_sms_file_in_cache_rejected_unread(isolated, open_spy):
    huge = _sparse(isolated["cache"] / ds.SMS_SPAM_FILENAME, 2**30)
    seconds, error = elapsed(ds.load_sms_spam, download=False)
    assert isinstance(error, ds.DataChecksumError), error
    assert "1,073,741,824 bytes" in str(error) and str(huge) in str(error)
    assert huge not in open_spy
    assert seconds < 2


def test_huge_movielens_file_rejected_unread(isolated, open_spy):
    folder = isolated["cache"] / "ml-100k"
    huge = _sparse(folder / "u.data", 2**30)
    (folder / "u.user").write_bytes(b"1|24|M|x|1\n")
    (folder / "u.item").write_bytes(b"")
    with pytest.raises(ds.DataChecksumError, match="larger than"):
        ds.load_movielens_100k(download=False)
    assert huge not in open_spy


def test_file_growing_after_stat_is_read_only_up_to_the_limit(tmp_path, monkeypatch):
    path = tmp_path / "growing"
    path.write_bytes(b"x" * 5000)
    monkeypatch.setattr(ds, "_MAX_MEMBER_BYTES", 1000)

    class SmallStat:
        st_size = 10  # what stat said before the file grew

    monkeypatch.setattr(Path, "stat", lambda self, **kw: SmallStat())
    with pytest.raises(ds.DataChecksumError, match="larger than 1,000 bytes"):
        ds._read_capped(path)


# --------------------------------------------------------------------------
# Zip archives that lie, or hold very many members
# --------------------------------------------------------------------------


@pytest.fixture
def small_limit(monkeypatch):
    monkeypatch.setattr(ds, "_MAX_MEMBER_BYTES", 10_000)
    return 10_000


@pytest.fixture
def read_counter(monkeypatch):
    """Counts the bytes zipfile hands out for members."""
    counted = []
    real_read = zipfile.ZipExtFile.read

    def counting_read(self, n=-1):
        data = real_read(self, n)
        counted.append(len(data))
        return data

    monkeypatch.setattr(zipfile.ZipExtFile, "read", counting_read)
    return counted


def test_member_larger_than_the_header_says_is_read_up_to_the_limit(
    small_limit, read_counter
):
    # 1 MB of content whose headers claim 5,000 bytes (under the limit)
    archive = lie_about_sizes(
        zip_bytes({ds.SMS_SPAM_FILENAME: b"\0" * 2**20}), claimed=5_000
    )
    with pytest.raises(ds.DataUnavailableError):
        ds._extract_member(archive, ds.SMS_SPAM_FILENAME, "http://test/")
    assert sum(read_counter) <= small_limit + 1


def test_member_over_the_limit_with_honest_header_is_refused_unread(
    small_limit, read_counter
):
    archive = zip_bytes({ds.SMS_SPAM_FILENAME: b"\0" * 50_000})
    with pytest.raises(ds.DataUnavailableError, match="larger than 10,000 bytes"):
        ds._extract_member(archive, ds.SMS_SPAM_FILENAME, "http://test/")
    assert read_counter == []


def test_stream_stops_at_the_limit_whatever_zipfile_does(small_limit):
    # a reader that ignores its header and never ends: read at most limit + 1
    class Endless:
        handed_out = 0

        def read(self, n):
            Endless.handed_out += n
            return b"\0" * n

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    class FakeZip:
        def open(self, info):
            return Endless()

    info = zipfile.ZipInfo("member")
    info.file_size = 100
    info.compress_type = zipfile.ZIP_DEFLATED
    with pytest.raises(ds.DataUnavailableError, match="larger than"):
        ds._read_member(FakeZip(), info, "http://test/")
    assert Endless.handed_out == small_limit + 1


@pytest.mark.parametrize("claimed", [None, 100])
def test_bzip2_member_is_refused_before_decompressing(claimed):
    # 64 MiB of zeros compress to a few hundred bytes with bzip2; zipfile
    # would decompress a whole chunk at once. Refused by compression method.
    content = b"\0" * 64 * 2**20
    archive = zip_bytes({ds.SMS_SPAM_FILENAME: content}, compression=zipfile.ZIP_BZIP2)
    del content
    if claimed is not None:
        archive = lie_about_sizes(archive, claimed)
    tracemalloc.start()
    try:
        with pytest.raises(ds.DataUnavailableError):
            ds._extract_member(archive, ds.SMS_SPAM_FILENAME, "http://test/")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 * 2**20
    assert len(archive) < 100_000


def test_archive_with_200000_members_gives_a_short_message():
    archive = empty_members_zip([f"junk/{i:06d}" for i in range(200_000)])
    with pytest.raises(ds.DataUnavailableError) as info:
        ds._extract_member(archive, ds.SMS_SPAM_FILENAME, "http://test/")
    message = str(info.value)
    assert len(message) < 1000, len(message)
    assert "'junk/000000'" in message and "and 199,990 more" in message
    assert "junk/199999" not in message


def test_movielens_archive_with_many_members_gives_a_short_message(
    server, tmp_path, monkeypatch
):
    archive = empty_members_zip([f"ml-100k/x{i}" for i in range(20_000)])
    monkeypatch.setattr(ds, "MOVIELENS_100K_URL", server.serve("/m.zip", "ok", archive))
    monkeypatch.setattr(ds, "MOVIELENS_100K_SHA256", sha(archive))
    with pytest.raises(ds.DataUnavailableError) as info:
        ds.load_movielens_100k(tmp_path, timeout=5)
    assert len(str(info.value)) < 3000
    assert "and 19,990 more" in str(info.value)


# --------------------------------------------------------------------------
# Timeouts
# --------------------------------------------------------------------------

BAD_SECONDS = [0, 0.0, -1, -0.5, math.inf, -math.inf, math.nan]
NOT_NUMBERS = [True, None, "10", [10]]


@pytest.mark.parametrize("name", ["timeout", "total_timeout"])
@pytest.mark.parametrize("value", BAD_SECONDS, ids=repr)
@pytest.mark.parametrize("loader", LOADERS)
def test_bad_timeout_is_a_clear_value_error(monkeypatch, loader, name, value):
    _no_download(monkeypatch)
    with pytest.raises(ValueError) as info:
        LOADERS[loader](**{name: value})
    message = str(info.value)
    assert message.startswith(f"{name} must be a positive, finite number of seconds")
    assert repr(value) in message


@pytest.mark.parametrize("value", NOT_NUMBERS, ids=repr)
@pytest.mark.parametrize("loader", LOADERS)
def test_timeout_that_is_not_a_number_is_a_type_error(monkeypatch, loader, value):
    _no_download(monkeypatch)
    with pytest.raises(TypeError, match="timeout must be a positive number of seconds"):
        LOADERS[loader](timeout=value)


def test_bad_timeout_refused_even_by_the_private_fetch(server, tmp_path):
    url = server.serve("/sms.zip", "ok", GOOD_ZIP)
    with pytest.raises(ValueError, match="timeout"):
        ds._fetch(url, tmp_path, CONTENT_SHA, timeout=0)
    assert server.requests == []


def test_timeout_zero_is_not_a_blocking_io_error(sms_served):
    sms_served()
    seconds, error = elapsed(ds.load_sms_spam, timeout=0)
    assert type(error) is ValueError


def test_trickling_body_is_stopped_by_total_timeout(sms_served, server, tmp_path):
    # one byte every 0.1 s: each read is well within `timeout`, the whole never ends
    sms_served(GOOD_ZIP + b"\0" * 10_000, kind="trickle")
    seconds, error = elapsed(ds.load_sms_spam, tmp_path, timeout=2, total_timeout=1)
    assert isinstance(error, ds.DataUnavailableError), error
    assert "total_timeout=1" in str(error)
    assert 0.9 < seconds < 4
    assert list(tmp_path.iterdir()) == []


def test_trickling_headers_are_stopped_by_total_timeout(server, tmp_path, monkeypatch):
    url = server.serve("/ml.zip", "trickle-headers")
    monkeypatch.setattr(ds, "MOVIELENS_100K_URL", url)
    seconds, error = elapsed(ds.load_movielens_100k, tmp_path, timeout=2,
                             total_timeout=1)
    assert isinstance(error, ds.DataUnavailableError), error
    assert "total_timeout=1" in str(error)
    assert 0.9 < seconds < 4
    assert list(tmp_path.iterdir()) == []


def test_fast_download_within_total_timeout_leaves_no_timer(sms_served, tmp_path):
    sms_served()
    before = {t for t in threading.enumerate() if isinstance(t, threading.Timer)}
    ds.load_sms_spam(tmp_path, timeout=2, total_timeout=5)
    assert (tmp_path / ds.SMS_SPAM_FILENAME).read_bytes() == CONTENT
    for timer in threading.enumerate():
        if isinstance(timer, threading.Timer) and timer not in before:
            timer.join(1)
            assert not timer.is_alive()


def test_slow_but_steady_download_within_total_timeout_succeeds(
    sms_served, server, tmp_path
):
    # the trickle is fine when it ends in time: the deadline cuts only the endless
    server.httpd.trickle_interval = 0.001
    archive = zip_bytes({ds.SMS_SPAM_FILENAME: CONTENT}, compression=zipfile.ZIP_STORED)
    sms_served(archive, kind="trickle")
    ds.load_sms_spam(tmp_path, timeout=2, total_timeout=30)
    assert (tmp_path / ds.SMS_SPAM_FILENAME).read_bytes() == CONTENT
