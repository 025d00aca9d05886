"""``dlx train --model seq2seq --dataset dates``: the course's date translator from the CLI.

Trains :class:`dlx.text.seq2seq.AttentionSeq2Seq` on generated human-readable dates
(``dlx.text.dates``, Babel's CLDR formats), then prints exact-match accuracy (greedy) and
character BLEU on held-out dates and writes ``attention.png`` (the attention map of one
translation) and ``results.json`` into ``--out``. ``examples/date_translation.py`` runs the
same training with beam search and the beam error analysis on top.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from dlx import backends
from dlx.errors import ConfigError

#: defaults of `dlx train --model seq2seq` (the example's: >= 99% exact match in 6 epochs)
DEFAULTS = {"epochs": 6, "batch_size": 100, "lr": 0.005, "decay": 0.7, "train": 30000,
            "test": 1000}
EXAMPLE = ("wednesday, 9 may 2018", "2018-05-09")


def cmd_train_seq2seq(args) -> int:
    """Called by ``dlx train`` when ``--model seq2seq``."""
    from dlx.text.attention_plot import plot_attention
    from dlx.text.bleu import corpus_bleu
    from dlx.text.dates import date_vocabularies, encode_dates, generate_dates
    from dlx.text.seq2seq import AttentionSeq2Seq, exact_match, fit_seq2seq
    from dlx.text.vocab import BOS, EOS

    if args.dataset != "dates":
        raise ConfigError(f"--model seq2seq trains on --dataset dates, got {args.dataset!r}")
    started = time.perf_counter()
    backend = backends.set_backend(args.backend or backends.env_backend_name("auto"))
    backend.seed(args.seed)
    say = (lambda *a: None) if args.quiet else print
    epochs = args.epochs if args.epochs is not None else DEFAULTS["epochs"]
    lr = args.lr if args.lr is not None else DEFAULTS["lr"]
    batch_size = args.batch_size or DEFAULTS["batch_size"]
    source, target = date_vocabularies()
    train = encode_dates(generate_dates(DEFAULTS["train"], seed=args.seed + 1))
    test_pairs = generate_dates(DEFAULTS["test"], seed=args.seed + 2)
    model = AttentionSeq2Seq(len(source), len(target), target.ids[BOS], target.ids[EOS])
    say(f"dlx train: seq2seq with attention ({model.num_parameters():,} parameters) on "
        f"{DEFAULTS['train']} generated dates, backend {backend.name}, adam lr {lr:g} x "
        f"{DEFAULTS['decay']:g}^epoch, batch {batch_size}, {epochs} epochs")
    fit_seq2seq(model, train, epochs=epochs, batch_size=batch_size, lr=lr,
                decay=DEFAULTS["decay"],
                log=lambda e, loss: say(f"epoch {e + 1}/{epochs}: loss {loss:.4f}"))
    X, L, Y = encode_dates(test_pairs)
    greedy = model.translate(X, L)
    decoded = [target.decode(row) for row in backend.to_host(greedy.tokens)]
    bleu = corpus_bleu(decoded, [[list(iso)] for _, iso in test_pairs]).score
    accuracy = exact_match(greedy.tokens, Y)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    tokens, alphas = model.attention_map(*encode_dates([EXAMPLE])[:2])
    output = "".join(target.decode(backend.to_host(tokens)[0]))
    plot_attention(out / "attention.png", EXAMPLE[0], output,
                   backend.to_host(alphas)[0][:len(output)])
    results = {"held_out": DEFAULTS["test"], "exact_match": accuracy, "char_bleu": bleu,
               "example": [EXAMPLE[0], output]}
    (out / "results.json").write_text(json.dumps(results, indent=2))
    print(f"held-out dates ({DEFAULTS['test']}): exact match {accuracy:.4f}, character BLEU "
          f"{bleu:.4f}")
    say(f"{EXAMPLE[0]!r} -> {output!r}; wrote attention.png and results.json to {out}/ in "
        f"{time.perf_counter() - started:.1f} s")
    return 0
