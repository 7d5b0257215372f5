"""Tests of fmlib.datasets.load_movielens_100k.

* the real files, read from the shared data folder (skipped when absent);
* small synthetic files placed by hand in tmp_path: verification by
  checksum and by structure, the lookup order;
* the download, from an HTTP server on 127.0.0.1 serving a zip built here,
  with the expected checksums injected by monkeypatching the module's
  constants. Nothing reaches the internet.
"""

from __future__ import annotations

import csv
import os
import stat
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import fmlib.datasets as ds
from data_support import isolated, server, sha, zip_bytes  # noqa: F401

_ENV_AT_START = os.environ.get(ds.ENV_DATA_HOME)
REAL_DATA_DIR = (
    Path(_ENV_AT_START)
    if _ENV_AT_START
    else Path(__file__).resolve().parents[2] / "shared" / "data"
)
GENRES = [
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy",
    "Crime", "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror",
    "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller", "War", "Western",
]


# --------------------------------------------------------------------------
# Synthetic files
# --------------------------------------------------------------------------

def _flags(*names):
    return "|".join("1" if g in names else "0" for g in GENRES)


CHILDREN_ANIMATION = _flags("Children's", "Animation")
U_DATA = b"1\t2\t5\t881250949\n3\t1\t1\t891717742\n2\t4\t3\t878887116\n1\t1\t4\t880000000\n"
U_USER = b"1|24|M|technician|85711\n2|53|F|other|T8H1N\n3|23|M|writer|02138\n"
U_ITEM = (
    f"1|Toy Story (1995)|01-Jan-1995||http://x|{_flags('Animation', 'Comedy')}\n"
    f"2|Caf\u00e9 Society (1997)||||{_flags('Drama')}\n"
    f"3|unknown||||{_flags('unknown')}\n"
    f"4|Land Before Time III (1995) (V)||||{CHILDREN_ANIMATION}\n"
).encode("latin-1")
# Another u.item that is structurally sound (dates and URLs empty): accepted
# by structure, like the hand-placed shared copy.
U_ITEM_REBUILT = U_ITEM.replace(b"01-Jan-1995||http://x", b"||")
FILES = {"u.data": U_DATA, "u.user": U_USER, "u.item": U_ITEM}
FILE_SHA = {name: sha(data) for name, data in FILES.items()}


@pytest.fixture
def synthetic(monkeypatch):
    """Point the module at the synthetic files' checksums and size."""
    monkeypatch.setattr(ds, "MOVIELENS_100K_FILE_SHA256", dict(FILE_SHA))
    monkeypatch.setattr(ds, "_MOVIELENS_N_ITEMS", 4)


def _place(folder: Path, files=None) -> Path:
    target = folder / "ml-100k"
    target.mkdir(parents=True, exist_ok=True)
    for name, data in (FILES if files is None else files).items():
        (target / name).write_bytes(data)
    return target


def _archive(files=None, prefix="ml-100k/", extra=None) -> bytes:
    members = {prefix + n: d for n, d in (FILES if files is None else files).items()}
    members[prefix + "README"] = b"synthetic, not the real data"
    members.update(extra or {})
    return zip_bytes(members)


def _check_synthetic(data):
    r, u, it = data.ratings, data.users, data["items"]
    assert list(r.columns) == ["user_id", "item_id", "rating", "timestamp"]
    assert r.to_numpy().tolist() == [
        [1, 2, 5, 881250949], [3, 1, 1, 891717742], [2, 4, 3, 878887116],
        [1, 1, 4, 880000000],
    ]
    assert all(r[c].dtype == np.int64 for c in r.columns)
    assert r.index.equals(pd.RangeIndex(4))
    assert list(u.columns) == ["user_id", "age", "gender", "occupation", "zip_code"]
    assert u["user_id"].tolist() == [1, 2, 3] and u["age"].tolist() == [24, 53, 23]
    assert u["age"].dtype == np.int64
    assert u["gender"].tolist() == ["M", "F", "M"]
    # zip codes stay strings: leading zeros and letters kept
    assert u["zip_code"].tolist() == ["85711", "T8H1N", "02138"]
    assert list(it.columns) == ["item_id", "title", "year"] + GENRES
    assert it["item_id"].tolist() == [1, 2, 3, 4]
    assert it["title"].tolist() == [
        "Toy Story (1995)", "Caf\u00e9 Society (1997)", "unknown",
        "Land Before Time III (1995) (V)",
    ]
    np.testing.assert_array_equal(it["year"].to_numpy(), [1995.0, 1997.0, np.nan, 1995.0])
    assert it["year"].dtype == np.float64
    assert it.loc[0, "Animation"] == 1 and it.loc[0, "Comedy"] == 1
    assert it.loc[0, GENRES].sum() == 2 and it.loc[1, GENRES].sum() == 1
    assert it.loc[2, "unknown"] == 1
    assert all(it[g].dtype == np.int64 for g in GENRES)
    assert data.genres == GENRES and isinstance(data.genres, list)
    assert data.genres is not ds.MOVIELENS_GENRES  # a copy: the constant stays intact


# --------------------------------------------------------------------------
# The real files (shared folder)
# --------------------------------------------------------------------------


@pytest.fixture
def real_folder(monkeypatch):
    folder = REAL_DATA_DIR / "ml-100k"
    if not all((folder / n).is_file() for n in ("u.data", "u.user", "u.item")):
        pytest.skip(f"MovieLens 100K not found in {folder} (set FMLIB_DATA_HOME)")
    monkeypatch.setenv(ds.ENV_DATA_HOME, str(REAL_DATA_DIR))
    return folder


def test_real_shapes_columns_and_types(real_folder):
    data = ds.load_movielens_100k(download=False)
    r, u, it = data.ratings, data.users, data["items"]
    assert r.shape == (100_000, 4) and u.shape == (943, 5) and it.shape == (1682, 22)
    assert list(r.columns) == ["user_id", "item_id", "rating", "timestamp"]
    assert list(u.columns) == ["user_id", "age", "gender", "occupation", "zip_code"]
    assert list(it.columns) == ["item_id", "title", "year"] + GENRES
    assert data.genres == GENRES == list(ds.MOVIELENS_GENRES)
    assert set(r["rating"]) == {1, 2, 3, 4, 5}
    assert set(u["gender"]) == {"M", "F"}
    assert r["user_id"].between(1, 943).all() and r["item_id"].between(1, 1682).all()
    for frame, ints in ((r, r.columns), (u, ["user_id", "age"]), (it, ["item_id"] + GENRES)):
        assert all(frame[c].dtype == np.int64 for c in ints)
    assert it["title"].iloc[0] == "Toy Story (1995)"
    assert set(np.unique(it[GENRES].to_numpy())) == {0, 1}


def test_real_matches_the_files(real_folder):
    data = ds.load_movielens_100k(download=False)
    # an independent reading of the files, with pandas
    ref = pd.read_csv(real_folder / "u.data", sep="\t", header=None)
    np.testing.assert_array_equal(data.ratings.to_numpy(), ref.to_numpy())
    users = pd.read_csv(real_folder / "u.user", sep="|", header=None, dtype=str)
    assert data.users["zip_code"].tolist() == users[4].tolist()
    assert data.users["occupation"].tolist() == users[3].tolist()
    items = pd.read_csv(real_folder / "u.item", sep="|", header=None,
                        encoding="latin-1", quoting=csv.QUOTE_NONE, dtype=str,
                        keep_default_na=False)
    assert data["items"]["title"].tolist() == items[1].tolist()
    np.testing.assert_array_equal(data["items"][GENRES].to_numpy(),
                                  items.iloc[:, 5:].astype(int).to_numpy())


def test_real_genre_counts_and_years(real_folder):
    it = ds.load_movielens_100k(download=False)["items"]
    assert it[ds.MOVIELENS_GENRES].shape == (1682, 19)  # selects with the constant
    # the counts that ../shared/data/README.md gives for the official file
    counts = it[GENRES].sum()
    assert (counts["Drama"], counts["Comedy"], counts["Action"], counts["Thriller"],
            counts["Romance"]) == (725, 505, 251, 251, 247)
    assert it.loc[it["year"].isna(), "title"].tolist() == ["unknown"]
    assert it["year"].dropna().between(1900, 1998).all()


def test_real_descr_cites_and_states_the_terms(real_folder):
    descr = ds.load_movielens_100k(download=False).DESCR
    assert "Harper" in descr and "Konstan" in descr and "2015" in descr
    assert "redistribute" in descr
    # the shared copy of u.item is rebuilt: DESCR says it was checked by structure
    assert "structure" in descr


# --------------------------------------------------------------------------
# Files placed by hand
# --------------------------------------------------------------------------


def test_synthetic_folder_parsed_exactly(tmp_path, synthetic):
    _place(tmp_path)
    data = ds.load_movielens_100k(tmp_path, download=False)
    _check_synthetic(data)
    assert "u.item is the official file" in data.DESCR


def test_rebuilt_u_item_accepted_by_structure(tmp_path, synthetic):
    _place(tmp_path, {**FILES, "u.item": U_ITEM_REBUILT})
    data = ds.load_movielens_100k(tmp_path, download=False)
    _check_synthetic(data)
    assert "checked by its structure" in data.DESCR


def _item_lines(*edits):
    lines = U_ITEM_REBUILT.decode("latin-1").splitlines()
    for index, line in edits:
        lines[index] = line
    return ("\n".join(line for line in lines if line is not None) + "\n").encode("latin-1")


@pytest.mark.parametrize(
    "bad_item, problem",
    [
        (_item_lines((1, "2|Caf\u00e9 (1997)||||" + _flags("Drama").replace("1", "2"))), "not 0 or 1"),
        (_item_lines((1, "2|Caf\u00e9 (1997)|||" + _flags("Drama"))), "23 fields"),
        (_item_lines((1, "7|Caf\u00e9 (1997)||||" + _flags("Drama"))), "item id '7'"),
        (_item_lines((1, "2|||||" + _flags("Drama"))), "no title"),
        (_item_lines((3, None)), "3 lines, not 4"),
        (U_ITEM_REBUILT.replace(b"\n", b"\r\n"), "not 0 or 1"),
    ],
    ids=["flag-2", "23-fields", "id-out-of-order", "no-title", "row-missing", "crlf"],
)
def test_u_item_with_wrong_structure_is_refused(tmp_path, synthetic, bad_item, problem):
    folder = _place(tmp_path, {**FILES, "u.item": bad_item})
    with pytest.raises(ds.DataChecksumError) as info:
        ds.load_movielens_100k(tmp_path, download=False)
    message = str(info.value)
    assert problem in message
    assert str(folder / "u.item") in message and FILE_SHA["u.item"] in message
    assert (folder / "u.item").read_bytes() == bad_item  # left in place


@pytest.mark.parametrize("name", ["u.data", "u.user"])
def test_u_data_and_u_user_need_their_checksum(tmp_path, synthetic, name):
    changed = FILES[name].replace(b"1", b"2", 1)
    folder = _place(tmp_path, {**FILES, name: changed})
    with pytest.raises(ds.DataChecksumError) as info:
        ds.load_movielens_100k(tmp_path)  # found, so no download either
    message = str(info.value)
    assert str(folder / name) in message
    assert FILE_SHA[name] in message and sha(changed) in message
    assert (folder / name).read_bytes() == changed


def test_files_that_do_not_belong_together(tmp_path, monkeypatch, synthetic):
    # a rating of film 9, which u.item does not have
    data = U_DATA + b"1\t9\t4\t880000001\n"
    monkeypatch.setitem(ds.MOVIELENS_100K_FILE_SHA256, "u.data", sha(data))
    _place(tmp_path, {**FILES, "u.data": data})
    with pytest.raises(ds.DataChecksumError, match="1 a film not in u.item"):
        ds.load_movielens_100k(tmp_path, download=False)


def test_rating_outside_range_is_refused(tmp_path, monkeypatch, synthetic):
    data = U_DATA + b"1\t2\t6\t880000001\n"
    monkeypatch.setitem(ds.MOVIELENS_100K_FILE_SHA256, "u.data", sha(data))
    _place(tmp_path, {**FILES, "u.data": data})
    with pytest.raises(ValueError, match="line 5: a rating outside 1-5"):
        ds.load_movielens_100k(tmp_path, download=False)


LEVELS = ["data_home", "env", "project", "cache"]


@pytest.mark.parametrize("winner", LEVELS)
def test_lookup_order(tmp_path, monkeypatch, isolated, synthetic, winner):
    # The right files at `winner`, a copy with a wrong u.data at every lower
    # level: loading succeeds only if `winner` is read.
    dirs = {"data_home": tmp_path / "explicit", "env": tmp_path / "env",
            "project": isolated["project"], "cache": isolated["cache"]}
    monkeypatch.setenv(ds.ENV_DATA_HOME, str(dirs["env"]))
    index = LEVELS.index(winner)
    for level in LEVELS[:index]:
        dirs[level].mkdir(parents=True)  # present but empty
    _place(dirs[winner])
    for lower in LEVELS[index + 1:]:
        _place(dirs[lower], {**FILES, "u.data": b"1\t1\t1\t1\n"})
    _check_synthetic(ds.load_movielens_100k(dirs["data_home"], download=False))


def test_incomplete_folder_is_passed_over(tmp_path, monkeypatch, isolated, synthetic):
    # data_home holds only two of the files; the cache holds all three
    _place(tmp_path / "explicit", {"u.data": U_DATA, "u.user": U_USER})
    _place(isolated["cache"])
    _check_synthetic(ds.load_movielens_100k(tmp_path / "explicit", download=False))


def test_data_home_naming_the_ml_100k_folder_itself(tmp_path, synthetic):
    folder = _place(tmp_path)
    _check_synthetic(ds.load_movielens_100k(folder, download=False))
    # any other name: the files must be in its ml-100k/ subfolder
    renamed = folder.rename(tmp_path / "movielens")
    with pytest.raises(ds.DataUnavailableError):
        ds.load_movielens_100k(renamed, download=False)


def test_missing_without_download_says_where_to_put_it(tmp_path, isolated):
    with pytest.raises(ds.DataUnavailableError) as info:
        ds.load_movielens_100k(tmp_path / "explicit", download=False)
    message = str(info.value)
    assert "FMLIB_DATA_HOME" in message and "ml-100k" in message
    assert "u.data" in message and "u.item" in message
    assert ds.MOVIELENS_100K_URL in message
    assert str(tmp_path / "explicit") in message and str(isolated["cache"]) in message


# --------------------------------------------------------------------------
# Download
# --------------------------------------------------------------------------


@pytest.fixture
def served(server, monkeypatch, synthetic):
    """Serve a synthetic archive at the module's URL, with its checksum."""

    def serve(archive, kind="ok", archive_sha=None):
        url = server.serve("/ml-100k.zip", kind, archive)
        monkeypatch.setattr(ds, "MOVIELENS_100K_URL", url)
        monkeypatch.setattr(ds, "MOVIELENS_100K_SHA256", archive_sha or sha(archive))
        return url

    return serve


@pytest.mark.parametrize("target", ["data_home", "env", "cache"])
def test_download_into_the_right_folder(served, server, tmp_path, monkeypatch,
                                        isolated, target):
    served(_archive())
    data_home = tmp_path / "explicit" if target == "data_home" else None
    if target == "env":
        monkeypatch.setenv(ds.ENV_DATA_HOME, str(tmp_path / "env"))
    expected = {"data_home": tmp_path / "explicit", "env": tmp_path / "env",
                "cache": isolated["cache"]}[target]

    _check_synthetic(ds.load_movielens_100k(data_home, timeout=2))
    assert sorted(p.name for p in expected.iterdir()) == ["ml-100k"]
    folder = expected / "ml-100k"
    # the three files only: not the README, not the zip, no temporary file
    assert sorted(p.name for p in folder.iterdir()) == ["u.data", "u.item", "u.user"]
    for name, content in FILES.items():
        assert (folder / name).read_bytes() == content
    assert len(server.requests) == 1

    # the second call reads the saved files and does not download again
    _check_synthetic(ds.load_movielens_100k(data_home, timeout=2))
    assert len(server.requests) == 1


def test_downloaded_files_are_readable_by_others(served, tmp_path):
    served(_archive())
    old = os.umask(0o022)
    try:
        ds.load_movielens_100k(tmp_path, timeout=2)
    finally:
        os.umask(old)
    for name in FILES:
        mode = stat.S_IMODE((tmp_path / "ml-100k" / name).stat().st_mode)
        assert mode == 0o644, oct(mode)


def test_download_with_wrong_archive_checksum(served, tmp_path):
    archive = _archive()
    served(archive, archive_sha="0" * 64)
    with pytest.raises(ds.DataChecksumError) as info:
        ds.load_movielens_100k(tmp_path, timeout=2)
    assert "0" * 64 in str(info.value) and sha(archive) in str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_download_with_a_wrong_member(served, tmp_path):
    # the archive is the expected one, but a member is not
    served(_archive({**FILES, "u.user": U_USER + b"4|30|F|artist|00000\n"}))
    with pytest.raises(ds.DataChecksumError, match="'ml-100k/u.user'"):
        ds.load_movielens_100k(tmp_path, timeout=2)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("layout", ["member-missing", "flat", "renamed-folder"])
def test_download_member_missing(served, tmp_path, layout):
    if layout == "member-missing":
        archive = _archive({"u.data": U_DATA, "u.user": U_USER})
    else:
        archive = _archive(prefix={"flat": "", "renamed-folder": "ml-100k-copy/"}[layout])
    served(archive)
    with pytest.raises(ds.DataUnavailableError) as info:
        ds.load_movielens_100k(tmp_path, timeout=2)
    assert "no member 'ml-100k/u." in str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_download_never_extracts_by_member_path(served, tmp_path):
    # Members with paths that would escape the folder if extracted by name;
    # only the three expected names are read, and written by fmlib's own names.
    outside = tmp_path / "outside"
    archive = _archive(extra={"../escaped": b"x", "/abs/escaped": b"x",
                              "ml-100k/../../escaped": b"x"})
    served(archive)
    ds.load_movielens_100k(outside / "home", timeout=2)
    found = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*"))
    assert found == ["outside", "outside/home", "outside/home/ml-100k",
                     "outside/home/ml-100k/u.data", "outside/home/ml-100k/u.item",
                     "outside/home/ml-100k/u.user"]


def test_download_offline_error(tmp_path, isolated):
    # the isolation fixture points the URL at a closed port: no network
    with pytest.raises(ds.DataUnavailableError) as info:
        ds.load_movielens_100k(timeout=2)
    message = str(info.value)
    assert "could not be downloaded" in message
    assert "FMLIB_DATA_HOME" in message and ds.MOVIELENS_100K_URL in message
    assert str(isolated["cache"]) in message
    assert not isolated["cache"].exists() or list(isolated["cache"].rglob("*")) == []


def test_download_cut_short(served, tmp_path):
    served(_archive() + os.urandom(256 * 1024), kind="truncate")
    with pytest.raises(ds.DataUnavailableError):
        ds.load_movielens_100k(tmp_path, timeout=2)
    assert list(tmp_path.iterdir()) == []


def test_download_not_a_zip(served, tmp_path):
    served(b"<html>not a zip</html>")
    with pytest.raises(ds.DataUnavailableError, match="not a valid zip"):
        ds.load_movielens_100k(tmp_path, timeout=2)
    assert list(tmp_path.iterdir()) == []


def test_default_url_and_checksums_are_the_official_ones():
    # monkeypatched by the fixtures in every other test; the real values here
    assert ds.MOVIELENS_100K_SHA256 == (
        "50d2a982c66986937beb9ffb3aa76efe955bf3d5c6b761f4e3a7cd717c6a3229")
    assert ds.MOVIELENS_100K_FILE_SHA256 == {
        "u.data": "06416e597f82b7342361e41163890c81036900f418ad91315590814211dca490",
        "u.user": "f120e114da2e8cf314fd28f99417c94ae9ddf1cb6db8ce0e4b5995d40e90e62c",
        "u.item": "553841ebc7de3a0fd0d6b62a204ea30c1e651aacfb2814c7a6584ac52f2c5701",
    }
    assert ds._MOVIELENS_N_ITEMS == 1682


def test_default_url_is_the_official_one():
    # the isolation fixture patched the attribute: read the assignment itself
    import ast

    tree = ast.parse(Path(ds.__file__).read_text(encoding="utf-8"))
    values = {
        node.targets[0].id: node.value.value
        for node in tree.body
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)
        and isinstance(node.value, ast.Constant)
    }
    assert values["MOVIELENS_100K_URL"] == (
        "https://files.grouplens.org/datasets/movielens/ml-100k.zip")
