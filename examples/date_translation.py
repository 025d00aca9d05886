"""The course's date translator: seq2seq with attention, human-readable dates -> ISO.

    python examples/date_translation.py [--epochs 6] [--train 30000] [--test 1000]
                                        [--out date_attention.png] [--backend numpy]

Prints, on held-out generated dates: exact-match accuracy (greedy and beam search) and
character BLEU; the mean best normalised beam score for B = 1..10 (it must not fall); the
course's beam-search error analysis with B = 1; and writes the attention map of one
translation as a PNG. BLAS runs single-threaded: the matrices are small, and on a shared
machine multithreaded BLAS on them is many times slower.
"""

import argparse
import time

from dlx import backends
from dlx.text.attention_plot import plot_attention
from dlx.text.bleu import corpus_bleu
from dlx.text.beam import beam_error_analysis, beam_search
from dlx.text.dates import date_vocabularies, encode_dates, generate_dates
from dlx.text.seq2seq import AttentionSeq2Seq, exact_match, fit_seq2seq
from dlx.text.vocab import BOS, EOS


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="numpy")
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--train", type=int, default=30000)
    parser.add_argument("--test", type=int, default=1000)
    parser.add_argument("--lr", type=float, default=0.005)
    parser.add_argument("--decay", type=float, default=0.7)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="date_attention.png")
    args = parser.parse_args()

    from threadpoolctl import threadpool_limits

    threadpool_limits(1, "blas")
    backend = backends.set_backend(args.backend)
    backend.seed(args.seed)
    source, target = date_vocabularies()
    train = encode_dates(generate_dates(args.train, seed=args.seed + 1))
    test_pairs = generate_dates(args.test, seed=args.seed + 2)
    train_set = {h for h, _ in generate_dates(args.train, seed=args.seed + 1)}
    overlap = sum(h in train_set for h, _ in test_pairs)
    test = encode_dates(test_pairs)
    bos, eos = target.ids[BOS], target.ids[EOS]
    model = AttentionSeq2Seq(len(source), len(target), bos, eos)
    print(f"{args.train} training dates, {args.test} held-out ({overlap} of them also occur "
          f"verbatim among the training strings); {model.num_parameters()} parameters")

    start = time.perf_counter()
    fit_seq2seq(model, train, epochs=args.epochs, lr=args.lr, decay=args.decay,
                log=lambda e, loss: print(f"epoch {e + 1}: loss {loss:.4f} "
                                          f"({time.perf_counter() - start:.0f} s)", flush=True))
    seconds = time.perf_counter() - start

    X, L, Y = test
    greedy = model.translate(X, L)
    beam = model.translate(X, L, beam_width=3)
    decode = [target.decode(row) for row in backend.to_host(greedy.tokens)]
    bleu = corpus_bleu(decode, [[list(iso)] for _, iso in test_pairs])
    print(f"trained in {seconds:.0f} s; held-out exact match: greedy "
          f"{exact_match(greedy.tokens, Y):.4f}, beam B=3 {exact_match(beam.tokens, Y):.4f}; "
          f"character BLEU (greedy) {bleu.score:.4f}")

    dev = encode_dates(generate_dates(200, seed=args.seed + 3))
    state = model.encode(dev[0], dev[1])
    scores = []
    for B in range(1, 11):
        decoded = beam_search(model.log_prob_step, state, dev[0].shape[0], bos, eos, B, 11)
        scores.append(decoded.score)
    per_sample_drops = sum(int((b < a - 1e-9).sum()) for a, b in zip(scores, scores[1:]))
    means = " ".join(f"{float(s.mean()):.5f}" for s in scores)
    print(f"dev (200): mean best normalised score for B=1..10: {means}; per-sample "
          f"decreases as B grows: {per_sample_drops}")
    narrow = beam_search(model.log_prob_step, state, dev[0].shape[0], bos, eos, 1, 11)
    report = beam_error_analysis(model.log_prob_step, state, dev[2], narrow, bos, eos)
    print(f"error analysis (B=1 on dev): {report['errors']} errors, "
          f"{report['search_errors']} the search's fault, {report['model_errors']} the model's")

    example = "wednesday, 9 may 2018"
    ex = encode_dates([(example, "2018-05-09")])
    tokens, alphas = model.attention_map(ex[0], ex[1])
    output = "".join(target.decode(backend.to_host(tokens)[0]))
    plot_attention(args.out, example, output, backend.to_host(alphas)[0][:len(output)])
    print(f"{example!r} -> {output!r}; attention map written to {args.out}")


if __name__ == "__main__":
    main()
