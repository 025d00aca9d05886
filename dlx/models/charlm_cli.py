"""``dlx train --model charlm --dataset names`` and ``dlx sample CHECKPOINT``.

Training holds out 10% of the names (a seeded shuffle) and reports the held-out perplexity
per character next to a unigram character model's; the checkpoint stores the weights and,
in its JSON metadata, the model config and the vocabulary, so ``dlx sample`` rebuilds it.
"""

from __future__ import annotations

import time
from pathlib import Path

from dlx import backends
from dlx.errors import CheckpointError, ConfigError

#: defaults of `dlx train --model charlm` (1,426 training names x 8 epochs)
DEFAULTS = {"epochs": 8, "batch_size": 32, "lr": 0.01, "n_a": 64, "cell": "lstm",
            "clip_norm": 5.0, "held_out": 0.1}


def split_names(names, held_out: float):
    """(train, test) after a shuffle with the active backend's generator."""
    backend = backends.current()
    order = backend.to_host(backend.xp.argsort(backend.rng.random(len(names)))).tolist()
    n_test = max(1, round(held_out * len(names)))
    return [names[i] for i in order[n_test:]], [names[i] for i in order[:n_test]]


def cmd_train_charlm(args) -> int:
    """Called by ``dlx train`` when ``--model charlm``."""
    from dlx.data.names import load_names
    from dlx.models.charlm import (CharLM, CharVocab, perplexity, sample, train_charlm,
                                   unigram_perplexity)
    from dlx.train.checkpoint import save_checkpoint

    if args.dataset != "names":
        raise ConfigError(f"--model charlm trains on --dataset names, got {args.dataset!r}")
    started = time.perf_counter()
    backend = backends.set_backend(args.backend)
    backend.seed(args.seed)
    say = (lambda *a: None) if args.quiet else print
    names = load_names()
    vocab = CharVocab.from_names(names)
    train, test = split_names(names, DEFAULTS["held_out"])
    epochs = args.epochs if args.epochs is not None else DEFAULTS["epochs"]
    lr = args.lr if args.lr is not None else DEFAULTS["lr"]
    batch_size = args.batch_size or DEFAULTS["batch_size"]
    model = CharLM(len(vocab), DEFAULTS["n_a"], DEFAULTS["cell"])
    say(f"dlx train: charlm ({DEFAULTS['cell']}, n_a {DEFAULTS['n_a']}, "
        f"{model.num_parameters():,} parameters) on {len(names)} Faker en_US names "
        f"(train {len(train)}, held out {len(test)}), vocabulary {len(vocab)}, backend "
        f"{backend.name}, adam lr {lr:g}, clip norm {DEFAULTS['clip_norm']:g}, batch "
        f"{batch_size}, {epochs} epochs")
    train_charlm(model, vocab, train, epochs=epochs, batch_size=batch_size, lr=lr,
                 clip_norm=DEFAULTS["clip_norm"],
                 on_epoch=lambda e, loss: say(f"epoch {e}/{epochs}: train cross-entropy "
                                              f"{loss:.4f}"))
    ppl, base = perplexity(model, vocab, test), unigram_perplexity(vocab, train, test)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    info = {"charlm": {"vocab": vocab.to_json(), "held_out_perplexity": ppl,
                       "unigram_perplexity": base, "dataset": "names:faker:en_US"}}
    save_checkpoint(out / "checkpoint.npz", model, epoch=epochs, info=info)
    print(f"held-out perplexity per character: {ppl:.3f} (unigram characters: {base:.3f})")
    say("samples (temperature 0.8): " + ", ".join(sample(model, vocab, 10, 0.8)))
    say(f"wrote checkpoint.npz to {out}/ in {time.perf_counter() - started:.1f} s")
    return 0


def add_sample(subparsers, common):
    p = subparsers.add_parser("sample", parents=[common],
                              help="sample names from a character-level language model",
                              description="Draw names from a checkpoint written by "
                                          "`dlx train --model charlm`.")
    p.add_argument("checkpoint")
    p.add_argument("-n", type=int, default=10, help="how many names (default 10)")
    p.add_argument("--temperature", type=float, default=1.0,
                   help="below 1: safer, more common names; above 1: more varied")
    p.add_argument("--max-length", type=int, default=30)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--backend", choices=("auto", "numpy", "cupy", "emulated"), default="auto")
    p.set_defaults(func=cmd_sample)


def load_charlm(path):
    """(model, vocab) from a `dlx train --model charlm` checkpoint."""
    from dlx.models.charlm import CharLM, CharVocab
    from dlx.train.checkpoint import load_checkpoint

    ckpt = load_checkpoint(path)
    meta = ckpt.meta.get("info", {}).get("charlm")
    config = ckpt.meta.get("model_config") or {}
    if meta is None or config.get("name") != "charlm":
        raise CheckpointError(f"{path}: not a character-level language model checkpoint "
                              "(write one with `dlx train --model charlm --dataset names`)")
    vocab = CharVocab(meta["vocab"])
    model = CharLM(config["vocab_size"], config["n_a"], config["cell"], config["num_layers"])
    model.load_state_dict(ckpt.model_state)
    return model, vocab


def cmd_sample(args) -> int:
    from dlx.models.charlm import sample

    if args.n < 1:
        raise ConfigError(f"-n must be >= 1, got {args.n}")
    backend = backends.set_backend(args.backend)
    backend.seed(args.seed)
    model, vocab = load_charlm(args.checkpoint)
    for name in sample(model, vocab, args.n, args.temperature, args.max_length):
        print(name)
    return 0
