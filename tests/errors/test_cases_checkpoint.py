"""Every row of docs/errors.md's checkpoint/CLI section raises its class with its message,
and the table and ``cases_checkpoint.CASES`` list the same ids."""

from __future__ import annotations

import pathlib
import re

import pytest

import dlx.errors
from errors.cases_checkpoint import CASES

DOC = pathlib.Path(__file__).resolve().parents[2] / "docs" / "errors.md"
ROW = re.compile(r"^\| `([\w-]+)` \| (.+?) \| `(\w+)` \| (.+?) \|$")


def doc_rows() -> dict:
    text = DOC.read_text()
    section = text.split("## Checkpoints and the command line", 1)[1].split("\n## ", 1)[0]
    return {m.group(1): (m.group(3), m.group(4)) for m in map(ROW.match, section.splitlines())
            if m}


def test_table_and_registry_list_the_same_ids():
    assert set(doc_rows()) == set(CASES)
    assert len(CASES) >= 20


@pytest.mark.parametrize("case_id", sorted(CASES))
def test_row_raises_its_class_and_message(case_id, tmp_path):
    class_name, message = doc_rows()[case_id]
    with pytest.raises(getattr(dlx.errors, class_name)) as info:
        CASES[case_id](tmp_path)
    assert type(info.value).__name__ == class_name
    assert message in str(info.value)
