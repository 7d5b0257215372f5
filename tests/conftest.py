"""Shared pytest fixtures."""

import os
from pathlib import Path

import pytest


def _sms_data_home():
    """Folder holding SMSSpamCollection: $FMLIB_DATA_HOME, else ../shared/data
    beside the checkout; never a copy inside the repository."""
    env = os.environ.get("FMLIB_DATA_HOME")
    if env:
        return Path(env).expanduser()
    return Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(scope="session")
def sms_experiment():
    """The seed notebook's SMS spam split with TF-IDF features.

    A Bunch with X_train, X_test (CSR), y_train, y_test (1 = spam). Skips when
    the data file is not available locally (no download is attempted).
    """
    data_home = _sms_data_home()
    if not (data_home / "SMSSpamCollection").is_file():
        pytest.skip(
            f"SMSSpamCollection not found in {data_home} "
            "(set FMLIB_DATA_HOME to the folder holding it)"
        )
    from fmlib import datasets

    if hasattr(datasets, "sms_spam_experiment"):
        return datasets.sms_spam_experiment(data_home, download=False)

    # Fallback while fmlib.datasets is being written: the same construction.
    import csv

    import pandas as pd
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.model_selection import train_test_split
    from sklearn.utils import Bunch

    df = pd.read_csv(data_home / "SMSSpamCollection", sep="\t", header=None,
                     names=["label", "message"], quoting=csv.QUOTE_NONE)
    y = (df["label"] == "spam").to_numpy().astype("int64")
    m_train, m_test, y_train, y_test = train_test_split(
        df["message"].tolist(), y, test_size=0.25, random_state=1
    )
    vectorizer = TfidfVectorizer(min_df=2, max_df=0.5)
    return Bunch(X_train=vectorizer.fit_transform(m_train).tocsr(),
                 X_test=vectorizer.transform(m_test).tocsr(),
                 y_train=y_train, y_test=y_test)


def pytest_terminal_summary(terminalreporter):
    """Report how long the cold strict build of the book took, for CI's log."""
    import book_support

    if book_support._build_once.cache_info().currsize:
        _, seconds, _, returncode = book_support._build_once()
        status = "succeeded" if returncode == 0 else "FAILED"
        terminalreporter.write_line(
            f"Cold strict build of the whole book: {seconds:.1f} s ({status}; target: under 180 s)"
        )
