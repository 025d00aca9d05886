"""`dlx train --model seq2seq --dataset dates`: a tiny run prints the held-out figures and
writes the attention map and results; a wrong dataset is refused."""

import json

import pytest

from dlx.cli import main
from dlx.text import seq2seq_cli

pytest.importorskip("babel")
pytest.importorskip("matplotlib")


@pytest.mark.slow
def test_cli_trains_and_writes_the_attention_map(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(seq2seq_cli.DEFAULTS, "train", 200)
    monkeypatch.setitem(seq2seq_cli.DEFAULTS, "test", 20)
    out = tmp_path / "run"
    assert main(["train", "--model", "seq2seq", "--dataset", "dates", "--epochs", "1",
                 "--batch-size", "50", "--backend", "numpy", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "held-out dates (20): exact match" in printed and "character BLEU" in printed
    assert (out / "attention.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    results = json.loads((out / "results.json").read_text())
    assert results["held_out"] == 20 and 0 <= results["exact_match"] <= 1
    assert 0 <= results["char_bleu"] <= 1 and results["example"][0] == seq2seq_cli.EXAMPLE[0]


def test_cli_refuses_another_dataset(tmp_path, capsys):
    assert main(["train", "--model", "seq2seq", "--dataset", "digits", "--backend", "numpy",
                 "--out", str(tmp_path)]) == 2
    assert "trains on --dataset dates" in capsys.readouterr().err
