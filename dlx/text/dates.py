"""The course's date-translation data: human-readable dates -> ISO ``YYYY-MM-DD``.

Dates are drawn uniformly from 1950-01-01 .. 2049-12-31 (100 years, so a two-digit year
names one year: 50-99 -> 19xx, 00-49 -> 20xx) and written with Babel's CLDR data (locale
en_US) in one of :data:`FORMATS`, lower-cased, e.g. "3 may 1979", "tuesday, july 10, 2007",
"09/23/88". CLDR patterns use ``y`` (calendar year), never ``Y`` (the week-based year, which
formats 2018-12-31 as 2019). Characters are the tokens: inputs are padded to ``max_len``
with ``<pad>``; targets are the 10 ISO characters followed by ``</s>``.
"""

from __future__ import annotations

import datetime
import random

from dlx import backends
from dlx.errors import DlxError
from dlx.text.vocab import BOS, EOS, PAD, UNK, Vocabulary

FORMATS = ["short", "medium", "long", "full", "full", "d MMM y", "d MMMM y", "dd MMM y",
           "d MMM, y", "d MMMM, y", "dd, MMM y", "d MM yy", "MMMM d y", "MMMM d, y",
           "dd.MM.yy", "MM/dd/yy", "EEEE, d MMMM y", "EEE d MMM y"]
FIRST, LAST = datetime.date(1950, 1, 1), datetime.date(2049, 12, 31)
INPUT_CHARS = list("abcdefghijklmnopqrstuvwxyz0123456789 ,./-")
OUTPUT_CHARS = list("0123456789-")
TARGET_LEN = 11  # "YYYY-MM-DD" and </s>


def _format_date():
    try:
        from babel.dates import format_date
    except ImportError:
        raise DlxError("date generation uses Babel's CLDR data; install it with "
                       "pip install 'dlx[text]'") from None
    return format_date


def generate_dates(n: int, seed: int = 0) -> list[tuple[str, str]]:
    """``n`` (human-readable, ISO) pairs, reproducible from ``seed``."""
    format_date = _format_date()
    rnd = random.Random(seed)
    span = (LAST - FIRST).days
    pairs = []
    for _ in range(n):
        day = FIRST + datetime.timedelta(days=rnd.randint(0, span))
        text = format_date(day, format=rnd.choice(FORMATS), locale="en_US").lower()
        pairs.append((text, day.isoformat()))
    return pairs


def date_vocabularies() -> tuple[Vocabulary, Vocabulary]:
    """(input characters with <pad>/<unk>, output characters with <pad>/<s>/</s>)."""
    return (Vocabulary([PAD, UNK] + INPUT_CHARS),
            Vocabulary([PAD, BOS, EOS] + OUTPUT_CHARS))


def encode_dates(pairs, max_len: int = 30):
    """Device arrays (X (m, max_len), lengths (m,), Y (m, 11)) of integer ids."""
    source, target = date_vocabularies()
    xs, lengths, ys = [], [], []
    for human, iso in pairs:
        ids = source.encode(human[:max_len])
        lengths.append(len(ids))
        xs.append(ids + [source.ids[PAD]] * (max_len - len(ids)))
        ys.append(target.encode(iso, eos=True))
    backend = backends.current()
    as_ids = backend.xp.int64
    return (backend.asarray(xs, dtype=as_ids), backend.asarray(lengths, dtype=as_ids),
            backend.asarray(ys, dtype=as_ids))
