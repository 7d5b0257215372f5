"""Tests of fmlib.datasets: the SMS Spam Collection loader.

Three groups:

* the real file, read from the shared data folder (never from the
  repository, which does not hold it): counts, checksum, parsing, the
  experiment helper;
* where the loader looks, with small synthetic files in tmp_path;
* the download, against an HTTP server started here on 127.0.0.1 that
  serves zips built here. Nothing reaches the internet: every test runs with
  the download URL pointed at a closed local port, and with a guard that
  fails any connection to a non-loopback address.
"""

from __future__ import annotations

import csv
import os
import socket
import time
from pathlib import Path

import numpy as np
import pytest

import fmlib.datasets as ds
from data_support import (  # noqa: F401  (fixtures: the loopback-only isolation, the server)
    closed_port_url as _closed_port_url,
    isolated,
    server,
    sha as _sha,
    zip_bytes as _zip_bytes,
)

REAL_SHA256 = "7d039a24a6083ed9ef0f806ebad56bbb976e3aeb8de05669173bfdc4996c239d"

# Captured at import, before the isolation fixture below clears the variable:
# CI points FMLIB_DATA_HOME at the shared data; a developer's machine has the
# shared folder beside the checkout.
_ENV_AT_START = os.environ.get(ds.ENV_DATA_HOME)
REAL_DATA_DIR = (
    Path(_ENV_AT_START)
    if _ENV_AT_START
    else Path(__file__).resolve().parents[2] / "shared" / "data"
)

# Synthetic collection: exercises a leading double quote (which CSV quoting
# would treat as the start of a multi-line field), a tab inside a message,
# non-ASCII text and a C1 control character like those in the real file.
SYNTHETIC = [
    ("ham", "synthetic message one"),
    ("spam", '"WIN a £100 voucher, reply now'),
    ("ham", "it\u0092s fine, see you at 5"),
    ("ham", "a message\twith a tab in it"),
    ("spam", "last synthetic message"),
]


def _collection_bytes(rows) -> bytes:
    return "".join(f"{label}\t{msg}\n" for label, msg in rows).encode("utf-8")


SYNTHETIC_BYTES = _collection_bytes(SYNTHETIC)
SYNTHETIC_SHA = _sha(SYNTHETIC_BYTES)
# Well-formed but different content, hence a different checksum.
OTHER_BYTES = _collection_bytes([("ham", "some other copy")])


# --------------------------------------------------------------------------
# Isolation: no real cache, no real project data/, no internet
# --------------------------------------------------------------------------

_ORIGINAL_PROJECT_DATA_DIR = ds._project_data_dir
# --------------------------------------------------------------------------
# The real file
# --------------------------------------------------------------------------


@pytest.fixture
def real_data(monkeypatch):
    path = REAL_DATA_DIR / ds.SMS_SPAM_FILENAME
    if not path.is_file():
        pytest.skip(
            f"real SMSSpamCollection not found at {path} (set FMLIB_DATA_HOME "
            f"to the folder holding it to run these tests)"
        )
    monkeypatch.setenv(ds.ENV_DATA_HOME, str(REAL_DATA_DIR))
    return path


def test_real_checksum(real_data):
    assert ds.SMS_SPAM_SHA256 == REAL_SHA256
    assert _sha(real_data.read_bytes()) == REAL_SHA256


def test_real_counts_and_labels(real_data):
    import pandas as pd

    df = ds.load_sms_spam(download=False)
    assert list(df.columns) == ["label", "message"]
    assert len(df) == 5574
    assert df["label"].value_counts().to_dict() == {"ham": 4827, "spam": 747}
    assert set(df["label"]) == {"ham", "spam"}
    assert all(isinstance(m, str) for m in df["message"])
    assert df.index.equals(pd.RangeIndex(5574))


def test_real_first_and_last_messages(real_data):
    # Read off the file here, so that no line of the data is in the repo.
    lines = real_data.read_bytes().decode("utf-8").split("\n")
    assert lines[-1] == ""  # the file ends with a newline
    first, last = lines[0].split("\t", 1), lines[-2].split("\t", 1)
    df = ds.load_sms_spam(download=False)
    assert df.iloc[0].tolist() == first
    assert df.iloc[-1].tolist() == last


def test_real_matches_pandas_without_quoting(real_data):
    import pandas as pd

    df = ds.load_sms_spam(download=False)
    ref = pd.read_csv(
        real_data, sep="\t", header=None, names=["label", "message"],
        quoting=csv.QUOTE_NONE, encoding="utf-8", keep_default_na=False,
        dtype=str,
    )
    assert df["label"].tolist() == ref["label"].tolist()
    assert df["message"].tolist() == ref["message"].tolist()
    # The reason for QUOTE_NONE: default quoting merges lines.
    assert len(pd.read_csv(real_data, sep="\t", header=None)) == 5572


def test_real_return_X_y(real_data):
    messages, y = ds.load_sms_spam(download=False, return_X_y=True)
    df = ds.load_sms_spam(download=False)
    assert isinstance(messages, list) and len(messages) == 5574
    assert messages == df["message"].tolist()
    assert isinstance(y, np.ndarray) and y.dtype == np.int64
    assert set(np.unique(y)) == {0, 1} and y.sum() == 747
    np.testing.assert_array_equal(y, (df["label"] == "spam").to_numpy().astype(int))


@pytest.fixture
def experiment(real_data):
    return ds.sms_spam_experiment(download=False)


def test_experiment_shapes(experiment):
    e = experiment
    # The numbers in sms_spam_experiment's docstring.
    assert e.X_train.shape == (4180, 3453) and e.X_train.nnz == 51278
    assert e.X_test.shape == (1394, 3453) and e.X_test.nnz == 16719
    for X in (e.X_train, e.X_test):
        assert X.format == "csr" and X.dtype == np.float64
    assert len(e.messages_train) == len(e.y_train) == 4180
    assert len(e.messages_test) == len(e.y_test) == 1394
    # Not stratified (a stratified split would put 187 spam in the test set).
    assert (e.y_train.sum(), e.y_test.sum()) == (565, 182)
    assert len(e.vectorizer.vocabulary_) == 3453
    assert e.vectorizer.min_df == 2 and e.vectorizer.max_df == 0.5


def test_experiment_is_the_plain_split(experiment):
    from sklearn.model_selection import train_test_split

    messages, y = ds.load_sms_spam(download=False, return_X_y=True)
    m_tr, m_te, y_tr, y_te = train_test_split(
        messages, y, test_size=0.25, random_state=1
    )
    assert experiment.messages_train == m_tr and experiment.messages_test == m_te
    np.testing.assert_array_equal(experiment.y_train, y_tr)
    np.testing.assert_array_equal(experiment.y_test, y_te)


def test_experiment_is_deterministic(experiment):
    again = ds.sms_spam_experiment(download=False)
    for name in ("X_train", "X_test"):
        a, b = experiment[name], again[name]
        np.testing.assert_array_equal(a.indptr, b.indptr)
        np.testing.assert_array_equal(a.indices, b.indices)
        np.testing.assert_array_equal(a.data, b.data)
    np.testing.assert_array_equal(experiment.y_test, again.y_test)
    assert experiment.messages_test == again.messages_test
    assert experiment.vectorizer.vocabulary_ == again.vectorizer.vocabulary_


# --------------------------------------------------------------------------
# Parsing of synthetic files
# --------------------------------------------------------------------------


def test_synthetic_file_parsed_exactly(tmp_path, monkeypatch):
    (tmp_path / ds.SMS_SPAM_FILENAME).write_bytes(SYNTHETIC_BYTES)
    monkeypatch.setattr(ds, "SMS_SPAM_SHA256", SYNTHETIC_SHA)
    df = ds.load_sms_spam(tmp_path, download=False)
    assert list(zip(df["label"], df["message"])) == SYNTHETIC
    messages, y = ds.load_sms_spam(tmp_path, download=False, return_X_y=True)
    assert messages == [m for _, m in SYNTHETIC]
    assert y.tolist() == [0, 1, 0, 0, 1]


@pytest.mark.parametrize(
    "content",
    [
        b"ham\tok\nnot a valid line\n",
        b"eggs\tunknown label\n",
        b"ham\t\xff\xfe not utf-8\n",
    ],
    ids=["no-tab", "bad-label", "not-utf8"],
)
def test_malformed_file_is_refused(tmp_path, monkeypatch, content):
    (tmp_path / ds.SMS_SPAM_FILENAME).write_bytes(content)
    monkeypatch.setattr(ds, "SMS_SPAM_SHA256", _sha(content))
    with pytest.raises(ValueError):
        ds.load_sms_spam(tmp_path, download=False)


# --------------------------------------------------------------------------
# Where the loader looks
# --------------------------------------------------------------------------

LEVELS = ["data_home", "env", "project", "cache"]


@pytest.fixture
def four_dirs(tmp_path, monkeypatch, isolated):
    dirs = {
        "data_home": tmp_path / "explicit",
        "env": tmp_path / "env",
        "project": isolated["project"],
        "cache": isolated["cache"],
    }
    for d in dirs.values():
        d.mkdir(parents=True, exist_ok=True)
    monkeypatch.setenv(ds.ENV_DATA_HOME, str(dirs["env"]))
    return dirs


@pytest.mark.parametrize("winner", LEVELS)
def test_lookup_order(four_dirs, monkeypatch, winner):
    # The right file at `winner`, a different (wrong-checksum) copy at every
    # lower-priority level: loading succeeds only if `winner` is read.
    index = LEVELS.index(winner)
    four_dirs_path = {k: v / ds.SMS_SPAM_FILENAME for k, v in four_dirs.items()}
    four_dirs_path[winner].write_bytes(SYNTHETIC_BYTES)
    for lower in LEVELS[index + 1:]:
        four_dirs_path[lower].write_bytes(OTHER_BYTES)
    monkeypatch.setattr(ds, "SMS_SPAM_SHA256", SYNTHETIC_SHA)

    assert ds._locate(four_dirs["data_home"]) == four_dirs_path[winner]
    df = ds.load_sms_spam(four_dirs["data_home"], download=False)
    assert list(zip(df["label"], df["message"])) == SYNTHETIC


def test_search_dirs_order_and_project_dir_skipped(four_dirs, isolated):
    expected = [four_dirs[k] for k in LEVELS]
    assert ds._search_dirs(four_dirs["data_home"]) == expected
    assert ds._search_dirs() == expected[1:]
    isolated["project"].rmdir()
    assert ds._search_dirs() == [four_dirs["env"], four_dirs["cache"]]


def test_search_dirs_lists_a_folder_once(tmp_path, monkeypatch, isolated):
    monkeypatch.setenv(ds.ENV_DATA_HOME, str(tmp_path))
    assert ds._search_dirs(tmp_path) == [tmp_path, isolated["cache"]]


def test_download_dir_order(tmp_path, monkeypatch, isolated):
    assert ds._download_dir() == isolated["cache"]
    monkeypatch.setenv(ds.ENV_DATA_HOME, str(tmp_path / "env"))
    assert ds._download_dir() == tmp_path / "env"
    assert ds._download_dir(tmp_path / "explicit") == tmp_path / "explicit"


def test_unpatched_project_data_dir():
    # The isolation fixture replaces the resolver; check the real one: in a
    # source checkout it is <repo>/data, and only if that folder exists.
    repo = Path(ds.__file__).resolve().parent.parent
    found = _ORIGINAL_PROJECT_DATA_DIR()
    if (repo / "data").is_dir() and (repo / "pyproject.toml").is_file():
        assert found == repo / "data"
    else:
        assert found is None


def test_wrong_checksum_is_refused_with_both_hashes(tmp_path, monkeypatch):
    path = tmp_path / ds.SMS_SPAM_FILENAME
    path.write_bytes(OTHER_BYTES)
    # A file that is present must be refused, not silently re-downloaded.
    monkeypatch.setattr(ds, "_fetch", lambda *a, **k: pytest.fail("downloaded"))
    with pytest.raises(ds.DataChecksumError) as info:
        ds.load_sms_spam(tmp_path)
    message = str(info.value)
    assert REAL_SHA256 in message
    assert _sha(OTHER_BYTES) in message
    assert str(path) in message
    assert "Delete" in message
    assert isinstance(info.value, ValueError)
    assert path.read_bytes() == OTHER_BYTES  # left for the user to inspect


def test_missing_without_download_says_where_to_put_it(tmp_path, isolated):
    with pytest.raises(ds.DataUnavailableError) as info:
        ds.load_sms_spam(tmp_path / "explicit", download=False)
    message = str(info.value)
    assert "FMLIB_DATA_HOME" in message
    assert ds.SMS_SPAM_URL in message
    assert str(tmp_path / "explicit") in message
    assert str(isolated["cache"]) in message
    assert isinstance(info.value, OSError)


# --------------------------------------------------------------------------
# Download, against a local HTTP server
# --------------------------------------------------------------------------


@pytest.fixture
def good_zip():
    return _zip_bytes({ds.SMS_SPAM_FILENAME: SYNTHETIC_BYTES, "readme": b"synthetic"})


@pytest.fixture
def dest(tmp_path):
    d = tmp_path / "dest"
    d.mkdir()
    return d


def test_fetch_success(server, good_zip, tmp_path):
    url = server.serve("/sms.zip", "ok", good_zip)
    target = tmp_path / "not-yet-there"
    path = ds._fetch(url, target, SYNTHETIC_SHA, ds.SMS_SPAM_FILENAME, timeout=2)
    assert path == target / ds.SMS_SPAM_FILENAME
    assert path.read_bytes() == SYNTHETIC_BYTES
    # Only the member: not the readme, not the zip, no temporary file.
    assert sorted(p.name for p in target.iterdir()) == [ds.SMS_SPAM_FILENAME]


def test_fetch_replaces_an_existing_file(server, good_zip, dest):
    (dest / ds.SMS_SPAM_FILENAME).write_bytes(OTHER_BYTES)
    url = server.serve("/sms.zip", "ok", good_zip)
    ds._fetch(url, dest, SYNTHETIC_SHA, timeout=2)
    assert (dest / ds.SMS_SPAM_FILENAME).read_bytes() == SYNTHETIC_BYTES
    assert len(list(dest.iterdir())) == 1


def test_fetch_wrong_checksum(server, good_zip, dest):
    url = server.serve("/sms.zip", "ok", good_zip)
    wrong = "0" * 64
    with pytest.raises(ds.DataChecksumError) as info:
        ds._fetch(url, dest, wrong, timeout=2)
    assert wrong in str(info.value) and SYNTHETIC_SHA in str(info.value)
    assert list(dest.iterdir()) == []


def test_fetch_archive_without_member(server, dest):
    url = server.serve("/other.zip", "ok", _zip_bytes({"readme": b"no data here"}))
    with pytest.raises(ds.DataUnavailableError, match="no member 'SMSSpamCollection'"):
        ds._fetch(url, dest, SYNTHETIC_SHA, timeout=2)
    assert list(dest.iterdir()) == []


@pytest.mark.parametrize(
    "kind, body",
    [("ok", b"this is not a zip archive"), ("truncate", None)],
    ids=["not-a-zip", "closed-mid-transfer"],
)
def test_fetch_broken_transfer(server, good_zip, dest, kind, body):
    # Padding makes the truncated half big enough to span several reads.
    payload = body if body is not None else good_zip + os.urandom(256 * 1024)
    url = server.serve("/sms.zip", kind, payload)
    with pytest.raises(ds.DataUnavailableError):
        ds._fetch(url, dest, SYNTHETIC_SHA, timeout=2)
    assert list(dest.iterdir()) == []


def test_fetch_http_error(server, dest):
    url = server.serve("/exists.zip", "ok", b"").replace("/exists.zip", "/missing.zip")
    with pytest.raises(ds.DataUnavailableError, match="404"):
        ds._fetch(url, dest, SYNTHETIC_SHA, timeout=2)
    assert list(dest.iterdir()) == []


def test_fetch_connection_refused(dest):
    start = time.monotonic()
    with pytest.raises(ds.DataUnavailableError):
        ds._fetch(_closed_port_url(), dest, SYNTHETIC_SHA, timeout=2)
    assert time.monotonic() - start < 5
    assert list(dest.iterdir()) == []


def test_fetch_server_never_answers(server, dest):
    url = server.serve("/hang.zip", "hang")
    start = time.monotonic()
    with pytest.raises(ds.DataUnavailableError):
        ds._fetch(url, dest, SYNTHETIC_SHA, timeout=1)
    elapsed = time.monotonic() - start
    assert 0.5 < elapsed < 5
    assert list(dest.iterdir()) == []


def test_fetch_interrupted_write_leaves_nothing(server, good_zip, dest, monkeypatch):
    url = server.serve("/sms.zip", "ok", good_zip)

    def failing_replace(src, dst):
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(ds.os, "replace", failing_replace)
    with pytest.raises(OSError, match="simulated"):
        ds._fetch(url, dest, SYNTHETIC_SHA, timeout=2)
    assert list(dest.iterdir()) == []


def test_fetch_refuses_non_http_urls(dest, good_zip, tmp_path):
    archive = tmp_path / "local.zip"
    archive.write_bytes(good_zip)
    with pytest.raises(ValueError, match="http"):
        ds._fetch(archive.as_uri(), dest, SYNTHETIC_SHA, timeout=2)
    assert list(dest.iterdir()) == []


@pytest.mark.parametrize("target", ["data_home", "env", "cache"])
def test_load_downloads_into_the_right_folder(
    server, good_zip, tmp_path, monkeypatch, isolated, target
):
    monkeypatch.setattr(ds, "SMS_SPAM_URL", server.serve("/sms.zip", "ok", good_zip))
    monkeypatch.setattr(ds, "SMS_SPAM_SHA256", SYNTHETIC_SHA)
    data_home = tmp_path / "explicit" if target == "data_home" else None
    if target == "env":
        monkeypatch.setenv(ds.ENV_DATA_HOME, str(tmp_path / "env"))
    expected_dir = {"data_home": tmp_path / "explicit", "env": tmp_path / "env",
                    "cache": isolated["cache"]}[target]

    df = ds.load_sms_spam(data_home, download=True, timeout=2)
    assert list(zip(df["label"], df["message"])) == SYNTHETIC
    assert (expected_dir / ds.SMS_SPAM_FILENAME).read_bytes() == SYNTHETIC_BYTES
    assert sorted(p.name for p in expected_dir.iterdir()) == [ds.SMS_SPAM_FILENAME]

    # The second call finds the saved copy and does not download again.
    monkeypatch.setattr(ds, "_fetch", lambda *a, **k: pytest.fail("downloaded twice"))
    again = ds.load_sms_spam(data_home, download=True)
    assert again.equals(df)


def test_load_download_checksum_mismatch(server, good_zip, isolated, monkeypatch):
    monkeypatch.setattr(ds, "SMS_SPAM_URL", server.serve("/sms.zip", "ok", good_zip))
    # The module's real checksum: the synthetic file does not match it.
    with pytest.raises(ds.DataChecksumError) as info:
        ds.load_sms_spam(timeout=2)
    assert REAL_SHA256 in str(info.value) and SYNTHETIC_SHA in str(info.value)
    assert not isolated["cache"].exists() or list(isolated["cache"].iterdir()) == []


def test_load_download_timeout_gives_help(server, isolated, monkeypatch):
    url = server.serve("/hang.zip", "hang")
    monkeypatch.setattr(ds, "SMS_SPAM_URL", url)
    start = time.monotonic()
    with pytest.raises(ds.DataUnavailableError) as info:
        ds.load_sms_spam(timeout=1)
    assert time.monotonic() - start < 5
    message = str(info.value)
    assert "FMLIB_DATA_HOME" in message
    assert url in message
    assert str(isolated["cache"]) in message
    assert not isolated["cache"].exists() or list(isolated["cache"].iterdir()) == []


def test_network_guard_blocks_non_loopback():
    # The guard that keeps this file offline is itself in force.
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        with pytest.raises(AssertionError):
            s.connect(("192.0.2.1", 80))  # TEST-NET-1, never routed
    finally:
        s.close()


def test_experiment_matrices_are_canonical_csr(real_data):
    data = ds.sms_spam_experiment(download=False)
    for X in (data.X_train, data.X_test):
        assert X.format == "csr" and X.has_sorted_indices and X.has_canonical_format
