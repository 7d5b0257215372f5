"""The SMS Spam Collection: find it, verify it, parse it, and build the
experiment the book runs on it.

The collection is one text file, ``SMSSpamCollection``, of 5,574 SMS messages
(4,827 ham, 747 spam), one a line as ``label<TAB>message``. It is not shipped
with fmlib: :func:`load_sms_spam` looks for it in a few folders and, if it is
in none of them, downloads the official UCI archive. Every copy it reads is
checked against a fixed SHA-256 first, so every figure the book reports comes
from the same bytes.

Where the file is looked for, in order (the first folder holding it wins):

1. the ``data_home`` argument;
2. the folder named by the environment variable ``FMLIB_DATA_HOME``;
3. the project's ``data/`` folder (beside the ``fmlib`` package in a source
   checkout; skipped when it does not exist);
4. the user's cache folder, ``platformdirs.user_cache_dir("fmlib")`` (for example
   ``~/.cache/fmlib`` on Linux).

A download goes into ``data_home`` if given, else ``FMLIB_DATA_HOME`` if set,
else the user's cache folder.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import http.client

import numpy as np

__all__ = [
    "load_sms_spam",
    "sms_spam_experiment",
    "DataChecksumError",
    "DataUnavailableError",
    "SMS_SPAM_FILENAME",
    "SMS_SPAM_SHA256",
    "SMS_SPAM_URL",
    "ENV_DATA_HOME",
]

#: Name of the data file, and of the archive member that holds it.
SMS_SPAM_FILENAME = "SMSSpamCollection"
#: SHA-256 of ``SMSSpamCollection`` (477,907 bytes) as the UCI archive ships it.
SMS_SPAM_SHA256 = "7d039a24a6083ed9ef0f806ebad56bbb976e3aeb8de05669173bfdc4996c239d"
#: The official archive (UCI Machine Learning Repository, dataset 228).
SMS_SPAM_URL = "https://archive.ics.uci.edu/static/public/228/sms+spam+collection.zip"
#: Environment variable naming a folder that holds the data file.
ENV_DATA_HOME = "FMLIB_DATA_HOME"

# The real archive is about 200 kB and the member about 480 kB; the caps only
# stop a wrong URL or a hostile server from filling memory.
_MAX_ARCHIVE_BYTES = 64 * 2**20
_MAX_MEMBER_BYTES = 64 * 2**20
_CHUNK = 64 * 2**10
_LABELS = ("ham", "spam")


class DataChecksumError(ValueError):
    """A data file's SHA-256 is not the expected one.

    Raised for a file found on disk (which is left in place, for the user to
    inspect and delete) and for a download (which is never written).
    """


class DataUnavailableError(OSError):
    """The data file is in none of the searched folders and could not be
    downloaded (download not allowed, no network, timeout, a broken transfer,
    or an archive without the expected member).

    The message says where the file can be placed by hand.
    """


# --------------------------------------------------------------------------
# Where to look
# --------------------------------------------------------------------------


def _project_data_dir() -> Path | None:
    """The ``data/`` folder of a source checkout, or None.

    The ``pyproject.toml`` check keeps an installed fmlib (in site-packages)
    from picking up some unrelated ``site-packages/data`` folder.
    """
    root = Path(__file__).resolve().parent.parent
    data = root / "data"
    if data.is_dir() and (root / "pyproject.toml").is_file():
        return data
    return None


def _user_cache_dir() -> Path:
    # platformdirs is what pooch.os_cache uses; importing pooch itself would
    # import tqdm.auto, which prints a warning into notebooks without ipywidgets
    import platformdirs

    return Path(platformdirs.user_cache_dir("fmlib"))


def _search_dirs(data_home=None) -> list[Path]:
    """The folders searched for the data file, highest priority first."""
    dirs = []
    if data_home is not None:
        dirs.append(Path(data_home).expanduser())
    env = os.environ.get(ENV_DATA_HOME)
    if env:
        dirs.append(Path(env).expanduser())
    project = _project_data_dir()
    if project is not None:
        dirs.append(project)
    dirs.append(_user_cache_dir())
    # The same folder can come in twice (FMLIB_DATA_HOME=data/); list it once
    # so that error messages stay short.
    unique = []
    for d in dirs:
        if d not in unique:
            unique.append(d)
    return unique


def _download_dir(data_home=None) -> Path:
    """The folder a download is written to."""
    if data_home is not None:
        return Path(data_home).expanduser()
    env = os.environ.get(ENV_DATA_HOME)
    if env:
        return Path(env).expanduser()
    return _user_cache_dir()


def _locate(data_home=None, filename=SMS_SPAM_FILENAME) -> Path | None:
    """The first ``filename`` found in :func:`_search_dirs`, or None."""
    for d in _search_dirs(data_home):
        candidate = d / filename
        if candidate.is_file():
            return candidate
    return None


def _manual_instructions(dirs) -> str:
    folders = "\n".join(f"  - {d}" for d in dirs)
    return (
        f"To install it by hand, download {SMS_SPAM_URL}, extract the file "
        f"{SMS_SPAM_FILENAME!r} from it and put it in one of these folders "
        f"(searched in this order):\n{folders}\n"
        f"or put it in any folder and set the environment variable "
        f"{ENV_DATA_HOME} to that folder."
    )


# --------------------------------------------------------------------------
# Verify and parse
# --------------------------------------------------------------------------


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _read_verified(path: Path, sha256: str) -> bytes:
    """The bytes of ``path``, after checking their SHA-256.

    The digest is taken over the very bytes that are then parsed (the file is
    read once), so a file replaced between a check and a read cannot slip
    through; hashing 480 kB costs about a millisecond, so there is nothing
    worth caching.
    """
    raw = path.read_bytes()
    actual = _sha256(raw)
    if actual != sha256:
        raise DataChecksumError(
            f"{path} does not have the expected SHA-256 checksum.\n"
            f"  expected: {sha256}\n"
            f"  actual:   {actual}\n"
            f"The file is damaged or a different version. Delete it and call "
            f"load_sms_spam() again to re-download it (or put the right copy, "
            f"from {SMS_SPAM_URL}, in its place)."
        )
    return raw


def _parse(raw: bytes, source) -> tuple[list[str], list[str]]:
    """Split the file into labels and messages, one per line.

    Lines are split by hand at the first tab, with no quote processing (what
    pandas does with ``quoting=csv.QUOTE_NONE``): the messages contain
    unbalanced double quotes, and CSV quoting merges lines (5,572 rows instead
    of 5,574).

    The file is UTF-8 (the pound sign is the two bytes C2 A3; read as latin-1
    it would come out as "Â£"). Strict decoding makes a wrong file fail loudly.
    About 50 messages hold C1 control characters (U+0091 to U+0096): Windows-1252
    quotes and dashes that were mis-converted before the collection was
    published. They are kept as they are, so the text is exactly the
    published one.
    """
    text = raw.decode("utf-8")
    lines = text.split("\n")
    # A final newline ends the last record rather than starting an empty one.
    if lines and lines[-1] == "":
        lines.pop()
    labels, messages = [], []
    for number, line in enumerate(lines, start=1):
        label, tab, message = line.partition("\t")
        if not tab or label not in _LABELS:
            raise ValueError(
                f"{source}, line {number}: expected 'ham' or 'spam', a tab, "
                f"then the message; got {line[:60]!r}"
            )
        labels.append(label)
        messages.append(message)
    return labels, messages


# --------------------------------------------------------------------------
# Download
# --------------------------------------------------------------------------


def _download_bytes(url: str, timeout: float) -> bytes:
    """GET ``url`` into memory, with every socket operation bounded.

    ``timeout`` bounds the connection and each read (a server that accepts
    and then says nothing fails after ``timeout`` seconds); a transfer that
    keeps making progress is not cut short. Host-name resolution is done by
    the operating system and is not covered by it.
    """
    if not url.startswith(("https://", "http://")):
        # Keeps file:// and friends out: this fetches from a server or not at all.
        raise ValueError(f"only http(s) URLs can be downloaded, got {url!r}")
    request = urllib.request.Request(url, headers={"User-Agent": "fmlib-datasets"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        expected_length = response.headers.get("Content-Length")
        buffer = io.BytesIO()
        while True:
            chunk = response.read(_CHUNK)
            if not chunk:
                break
            buffer.write(chunk)
            if buffer.tell() > _MAX_ARCHIVE_BYTES:
                raise DataUnavailableError(
                    f"{url} sent more than {_MAX_ARCHIVE_BYTES} bytes; "
                    f"that is not the SMS Spam Collection archive"
                )
    data = buffer.getvalue()
    # http.client raises IncompleteRead on a short body already; checking
    # again costs nothing and does not depend on its version.
    if expected_length is not None and expected_length.isdigit():
        if len(data) != int(expected_length):
            raise DataUnavailableError(
                f"connection closed after {len(data)} of {expected_length} bytes"
            )
    return data


def _extract_member(archive: bytes, member: str, url: str) -> bytes:
    try:
        zf = zipfile.ZipFile(io.BytesIO(archive))
    except zipfile.BadZipFile as exc:
        raise DataUnavailableError(
            f"what {url} sent is not a valid zip archive ({exc}): the "
            f"transfer was cut short, or the URL does not serve the archive"
        ) from exc
    with zf:
        names = zf.namelist()
        # Exact name first; a copy re-packed inside a folder is accepted too,
        # since the checksum decides whether it is the right file anyway.
        matches = [n for n in names if n == member] or [
            n for n in names if n.rsplit("/", 1)[-1] == member
        ]
        if not matches:
            raise DataUnavailableError(
                f"the archive from {url} has no member {member!r} "
                f"(it holds: {', '.join(names) or 'nothing'})"
            )
        info = zf.getinfo(matches[0])
        if info.file_size > _MAX_MEMBER_BYTES:
            raise DataUnavailableError(
                f"{member!r} in {url} is {info.file_size} bytes; "
                f"that is not the SMS Spam Collection"
            )
        try:
            return zf.read(info)
        except (zipfile.BadZipFile, EOFError, OSError) as exc:
            raise DataUnavailableError(
                f"{member!r} in the archive from {url} is corrupt: {exc}"
            ) from exc


def _write_atomically(data: bytes, dest: Path) -> None:
    """Write ``data`` to ``dest`` so that ``dest`` is either absent or whole.

    The temporary file lives in the destination folder because os.replace is
    only atomic within one file system; it is removed on any failure.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(
        dir=dest.parent, prefix=f".{dest.name}.", suffix=".part"
    )
    try:
        with os.fdopen(fd, "wb") as tmp:
            tmp.write(data)
            tmp.flush()
            os.fsync(tmp.fileno())
        os.replace(tmp_name, dest)
    except BaseException:
        # BaseException too: a Ctrl-C mid-write must not leave a .part file.
        try:
            os.unlink(tmp_name)
        except FileNotFoundError:
            pass
        raise


def _fetch(
    url: str,
    dest_dir,
    sha256: str,
    member: str = SMS_SPAM_FILENAME,
    timeout: float = 10.0,
) -> Path:
    """Download the zip at ``url``, extract ``member``, verify it, save it.

    Parameters
    ----------
    url : str
        An ``http://`` or ``https://`` URL of a zip archive.
    dest_dir : str or os.PathLike
        Folder to write ``member`` into (created if missing, and only once the
        download has succeeded).
    sha256 : str
        Expected SHA-256 (hex) of the extracted member.
    member : str, default "SMSSpamCollection"
        Name of the archive member to extract; it is saved under this name.
    timeout : float, default 10.0
        Seconds allowed for connecting and for each read.

    Returns
    -------
    pathlib.Path
        The path of the saved file.

    Raises
    ------
    DataUnavailableError
        No network, a timeout, an HTTP error, a transfer cut short, or an
        archive without ``member``.
    DataChecksumError
        The member's SHA-256 is not ``sha256``; nothing is written.

    Notes
    -----
    The archive is held in memory and the member is verified before anything
    touches the disk; the member is then written atomically. Whatever fails,
    ``dest_dir`` is left as it was: no partial archive, no temporary file.
    """
    try:
        archive = _download_bytes(url, timeout)
    except DataUnavailableError:
        raise
    except (OSError, http.client.HTTPException) as exc:
        # URLError, HTTPError, TimeoutError and ConnectionError are OSErrors;
        # IncompleteRead and RemoteDisconnected come from http.client.
        raise DataUnavailableError(f"could not download {url}: {exc!r}") from exc
    data = _extract_member(archive, member, url)
    actual = _sha256(data)
    if actual != sha256:
        raise DataChecksumError(
            f"{member!r} downloaded from {url} does not have the expected "
            f"SHA-256 checksum; it was not saved.\n"
            f"  expected: {sha256}\n"
            f"  actual:   {actual}\n"
            f"The file on the server may have changed, or the download was "
            f"corrupted; try again, or put a verified copy in place by hand."
        )
    dest = Path(dest_dir).expanduser() / member
    _write_atomically(data, dest)
    return dest


# --------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------


def load_sms_spam(data_home=None, *, download=True, return_X_y=False, timeout=10.0):
    """Load the SMS Spam Collection v.1 (5,574 messages: 4,827 ham, 747 spam).

    The file ``SMSSpamCollection`` is looked for in ``data_home``, then in
    the folder named by ``FMLIB_DATA_HOME``, then in the project's ``data/``
    folder (source checkouts only), then in the user's cache folder
    (``platformdirs.user_cache_dir("fmlib")``). The first copy found is used; if there is
    none and ``download`` is true, the official UCI archive is downloaded
    and the file saved into ``data_home`` if given, else ``FMLIB_DATA_HOME``
    if set, else the user's cache folder.

    Every copy, found or downloaded, is checked against a fixed SHA-256
    before it is parsed. Lines are split at the first tab with no quote
    processing (the equivalent of ``pandas.read_csv(..., quoting=
    csv.QUOTE_NONE)``), so quoted messages do not merge lines; the text is
    decoded as UTF-8 and kept exactly as published.

    Parameters
    ----------
    data_home : str or os.PathLike, optional
        A folder to look in first, and to download into.
    download : bool, default True
        Whether to download the file when no folder has it.
    return_X_y : bool, default False
        If true, return ``(messages, y)`` instead of a DataFrame.
    timeout : float, default 10.0
        Seconds allowed for connecting to the server and for each read
        during a download.

    Returns
    -------
    data : pandas.DataFrame
        Columns ``label`` (``"ham"`` or ``"spam"``) and ``message``, both of
        strings (object dtype on pandas 2, ``str`` on pandas 3), one row per
        line of the file, in file order, with a RangeIndex.
    (messages, y) : tuple of (list of str, numpy.ndarray)
        If ``return_X_y`` is true: the messages in file order, and
        ``y`` of dtype int64 with 1 for spam and 0 for ham.

    Raises
    ------
    DataChecksumError
        A file found, or downloaded, has the wrong SHA-256. The message names
        the path and both hashes. A file found is never replaced silently:
        delete it to re-download.
    DataUnavailableError
        No folder has the file and it could not be downloaded (or
        ``download`` is false). The message lists the folders searched, the
        ``FMLIB_DATA_HOME`` variable and the URL.

    Notes
    -----
    Almeida, T.A., Gómez Hidalgo, J.M., Yamakami, A. *Contributions to the
    Study of SMS Spam Filtering: New Collection and Results.* Proceedings of
    the 2011 ACM Symposium on Document Engineering (DocEng'11), 2011.

    Examples
    --------
    >>> df = load_sms_spam()                                # doctest: +SKIP
    >>> df["label"].value_counts()                          # doctest: +SKIP
    label
    ham     4827
    spam     747
    Name: count, dtype: int64
    """
    # Read at call time, not bound as defaults, so that tests (and users)
    # can point the module at another copy.
    expected = SMS_SPAM_SHA256
    path = _locate(data_home)
    if path is None:
        dirs = _search_dirs(data_home)
        if not download:
            raise DataUnavailableError(
                f"{SMS_SPAM_FILENAME!r} was not found and download=False.\n"
                + _manual_instructions(dirs)
            )
        try:
            path = _fetch(
                SMS_SPAM_URL,
                _download_dir(data_home),
                expected,
                SMS_SPAM_FILENAME,
                timeout,
            )
        except DataUnavailableError as exc:
            raise DataUnavailableError(
                f"{SMS_SPAM_FILENAME!r} was not found and could not be "
                f"downloaded: {exc}\n" + _manual_instructions(dirs)
            ) from exc
    raw = _read_verified(path, expected)
    labels, messages = _parse(raw, path)
    if return_X_y:
        y = np.fromiter((lab == "spam" for lab in labels), dtype=np.int64,
                        count=len(labels))
        return messages, y
    import pandas as pd

    return pd.DataFrame({"label": labels, "message": messages})


def sms_spam_experiment(
    data_home=None,
    *,
    download=True,
    timeout=10.0,
    test_size=0.25,
    random_state=1,
    min_df=2,
    max_df=0.5,
):
    """The seed notebook's spam experiment: split, then TF-IDF features.

    Loads the collection with :func:`load_sms_spam` (all 5,574 messages),
    sets ``y = (label == "spam")``, splits with
    ``train_test_split(messages, y, test_size=0.25, random_state=1)`` and
    fits ``TfidfVectorizer(min_df=2, max_df=0.5)`` on the training messages
    only, then transforms both sets.

    The split is **not stratified**, because the original notebook did not
    stratify; stratifying would change which messages land in the test set
    and so every reported figure.

    Measured with the 5,574-message file (scikit-learn 1.9):

    ==========  ==============  ======
    matrix      shape           nnz
    ==========  ==============  ======
    X_train     (4180, 3453)    51,278
    X_test      (1394, 3453)    16,719
    ==========  ==============  ======

    with 565 spam among the 4,180 training messages and 182 among the 1,394
    test messages. (The original notebook, which lost two lines to pandas'
    quoting and so split a different list, had a 4,179 x 3,508 training
    matrix with 51,261 non-zeros.)

    Parameters
    ----------
    data_home : str or os.PathLike, optional
        Passed to :func:`load_sms_spam`.
    download : bool, default True
        Passed to :func:`load_sms_spam`.
    timeout : float, default 10.0
        Passed to :func:`load_sms_spam`.
    test_size : float, default 0.25
        Fraction of messages in the test set.
    random_state : int, default 1
        Seed of the split.
    min_df, max_df : int or float, default 2 and 0.5
        Passed to :class:`~sklearn.feature_extraction.text.TfidfVectorizer`.

    Returns
    -------
    sklearn.utils.Bunch
        With attributes

        - ``X_train``, ``X_test`` : scipy.sparse.csr_matrix of float64, the
          TF-IDF features (rows L2-normalised);
        - ``y_train``, ``y_test`` : numpy.ndarray of int64, 1 for spam;
        - ``messages_train``, ``messages_test`` : list of str;
        - ``vectorizer`` : the fitted TfidfVectorizer.

    Examples
    --------
    >>> exp = sms_spam_experiment()                         # doctest: +SKIP
    >>> exp.X_train.shape                                   # doctest: +SKIP
    (4180, 3453)
    """
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.model_selection import train_test_split
    from sklearn.utils import Bunch

    messages, y = load_sms_spam(
        data_home, download=download, return_X_y=True, timeout=timeout
    )
    m_train, m_test, y_train, y_test = train_test_split(
        messages, y, test_size=test_size, random_state=random_state
    )
    vectorizer = TfidfVectorizer(min_df=min_df, max_df=max_df, dtype=np.float64)
    X_train = vectorizer.fit_transform(m_train).tocsr()
    X_test = vectorizer.transform(m_test).tocsr()
    # TfidfVectorizer leaves column indices unsorted within rows, which some
    # scikit-learn code (PolynomialFeatures on CSR) silently mishandles
    X_train.sort_indices()
    X_test.sort_indices()
    return Bunch(
        X_train=X_train,
        X_test=X_test,
        y_train=y_train,
        y_test=y_test,
        messages_train=m_train,
        messages_test=m_test,
        vectorizer=vectorizer,
    )
