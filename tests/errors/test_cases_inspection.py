"""docs/errors_inspection_rows.md and tests/errors/cases_inspection.py agree: every row's id
raises its exception class with its message, and every case has a row."""

import re
from pathlib import Path

import pytest

import dlx.errors
from errors.cases_inspection import CASES

ROWS_FILE = Path(__file__).resolve().parents[2] / "docs" / "errors_inspection_rows.md"
ROW = re.compile(r"^\|\s*`(?P<id>[^`]+)`\s*\|(?P<input>.*)\|\s*(?P<exc>\w+)\s*\|(?P<msg>.*)\|\s*$")


def parse_rows(text: str) -> dict:
    """{id: (exception class name, message substring)} from the table's rows."""
    rows = {}
    for line in text.splitlines():
        match = ROW.match(line)
        if match:
            assert match["id"] not in rows, f"duplicate row {match['id']}"
            rows[match["id"]] = (match["exc"], match["msg"].strip())
    return rows


ROWS = parse_rows(ROWS_FILE.read_text())


def test_rows_and_cases_match_both_ways():
    assert len(ROWS) >= 20
    assert set(ROWS) - set(CASES) == set(), "rows without a case"
    assert set(CASES) - set(ROWS) == set(), "cases without a row"


@pytest.mark.parametrize("case_id", sorted(ROWS))
def test_row_raises_its_class_with_its_message(case_id, tmp_path):
    exc_name, message = ROWS[case_id]
    exc = getattr(dlx.errors, exc_name)
    assert issubclass(exc, dlx.errors.DlxError)
    with pytest.raises(exc) as info:
        CASES[case_id](tmp_path)
    assert type(info.value).__name__ == exc_name, f"{case_id}: raised a subclass"
    assert message in str(info.value), f"{case_id}: {str(info.value)!r} lacks {message!r}"
