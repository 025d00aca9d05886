"""docs/errors.md and the code cannot drift apart: every row of the table is a test.

Each row ``| `id` | input | exception | message |`` names a bad action registered under the
same id in one of the ``tests/errors/cases_<topic>.py`` modules (``CASES = {id: fn}``, fn
taking pytest's ``tmp_path``). The test performs the action and asserts that it raises the
named exception class of ``dlx.errors`` with the message as a substring. The ids of the
table and of the registry must be the same set.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

import dlx.backends as B
import dlx.errors

HERE = Path(__file__).parent
TABLE = HERE.parents[1] / "docs" / "errors.md"
ROW = re.compile(r"^\|\s*`([^`]+)`\s*\|(.*)\|(.*)\|(.*)\|\s*$")


def _cell(text: str) -> str:
    text = text.strip()
    return text[1:-1] if len(text) >= 2 and text[0] == text[-1] == "`" else text


def table_rows() -> dict[str, tuple[str, str]]:
    """id -> (exception class name, message substring) for every row of docs/errors.md."""
    rows = {}
    for number, line in enumerate(TABLE.read_text(encoding="utf-8").splitlines(), 1):
        match = ROW.match(line)
        if match:
            case_id, _, exception, message = match.groups()
            assert case_id not in rows, f"docs/errors.md:{number}: duplicate id {case_id!r}"
            rows[case_id] = (_cell(exception), _cell(message))
    return rows


def registered_cases() -> dict:
    """id -> callable(tmp_path) from every tests/errors/cases_*.py."""
    cases = {}
    for path in sorted(HERE.glob("cases_*.py")):
        spec = importlib.util.spec_from_file_location(f"dlx_error_cases_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        for case_id, fn in module.CASES.items():
            assert case_id not in cases, f"{path.name}: id {case_id!r} registered twice"
            cases[case_id] = fn
    return cases


ROWS = table_rows()
CASES = registered_cases()


def test_table_and_registry_list_the_same_ids():
    assert sorted(set(ROWS) - set(CASES)) == [], "rows of docs/errors.md without a case"
    assert sorted(set(CASES) - set(ROWS)) == [], "cases missing from docs/errors.md"


@pytest.fixture
def numpy_backend():
    """The cases run on the NumPy backend with the default dtype, restored afterwards."""
    previous, dtype = B.current(), B.get_default_dtype()
    B.set_backend("numpy")
    yield
    B.set_backend(previous)
    B.set_default_dtype(dtype)


@pytest.mark.parametrize("case_id", sorted(ROWS))
def test_documented_error(case_id, tmp_path, numpy_backend):
    exception_name, message = ROWS[case_id]
    exception = getattr(dlx.errors, exception_name, None)
    assert isinstance(exception, type) and issubclass(exception, dlx.errors.DlxError), \
        f"{exception_name!r} is not a dlx.errors.DlxError subclass"
    assert case_id in CASES, f"no case registered for {case_id!r}"
    with pytest.raises(exception) as info:
        CASES[case_id](tmp_path)
    assert message in str(info.value), f"message changed: {info.value}"
