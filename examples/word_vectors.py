"""word2vec and GloVe trained by dlx on gensim's bundled Wikipedia text, next to gensim's own
Word2Vec on the same corpus and budget, with the course's debiasing on the result.

    python examples/word_vectors.py [--dim 50] [--epochs 5] [--glove-epochs 50] [--glove-lr 1.0]
                                    [--glove-window 10] [--glove-x-max 100] [--no-gensim]
                                    [--trainers word2vec gensim glove ppmi-svd]
                                    [--save vectors.npz]

Corpus: the 206 English Wikipedia articles in gensim's wheel (``dlx.text.corpora``), about
0.46M words after markup removal, words seen >= 5 times (8,941). Evaluation: Mikolov's
analogy questions restricted to those whose four words are in the vocabulary (3CosAdd,
query words excluded) and WordSim-353 (Spearman rank correlation), every model scored by
the same dlx code. gensim runs with one worker thread (dlx's NumPy trainer uses one core).
``ppmi-svd`` (not run by default) is a count-based reference on GloVe's own X: positive
pointwise mutual information log(X_ij X / (X_i X_j)), then a truncated SVD (scipy),
vectors U sqrt(S) -- it shows how much signal the co-occurrence counts carry.
"""

import argparse
import time

from dlx import backends
from dlx.text import Vocabulary, bias_direction, equalize, euclidean_distance, neutralize
from dlx.text.corpora import analogy_questions, similarity_pairs, wiki_sentences
from dlx.text.io import save_vectors
from dlx.text.glove import GloVeConfig, train_glove
from dlx.text.vectors import WordVectors
from dlx.text.word2vec import Word2VecConfig, train_word2vec

GENDER_PAIRS = [("woman", "man"), ("she", "he"), ("her", "his"), ("girl", "boy"),
                ("mother", "father"), ("daughter", "son"), ("female", "male")]
NEUTRAL = ["doctor", "nurse", "engineer", "teacher", "scientist", "artist", "lawyer",
           "writer", "president", "soldier", "worker", "student"]
EQUALISE = [("man", "woman"), ("he", "she"), ("boy", "girl"), ("king", "queen"),
            ("father", "mother")]


def wordsim(wv, pairs):
    from scipy.stats import spearmanr

    kept = [(a, b, s) for a, b, s in pairs if a in wv and b in wv]
    ours = [wv.similarity(a, b) for a, b, _ in kept]
    return spearmanr(ours, [s for _, _, s in kept]).statistic, len(kept)


def report(name, wv, seconds, questions, sections, pairs):
    overall = wv.analogy_accuracy(questions)
    semantic = [q for s, qs in sections.items() if not s.startswith("gram") for q in qs]
    syntactic = [q for s, qs in sections.items() if s.startswith("gram") for q in qs]
    sem, syn = wv.analogy_accuracy(semantic), wv.analogy_accuracy(syntactic)
    rho, n = wordsim(wv, pairs)
    print(f"{name:<22} {seconds:7.0f} s   analogies {overall['accuracy']:.4f} "
          f"({overall['correct']}/{overall['asked']}; semantic {sem['accuracy']:.4f} of "
          f"{sem['asked']}, syntactic {syn['accuracy']:.4f} of {syn['asked']})   "
          f"WordSim-353 rho {rho:.3f} ({n} pairs)", flush=True)


def ppmi_svd(sentences, vocab, dim: int, window: int = 10):
    """Vectors U_k sqrt(S_k) of the truncated SVD of max(0, PMI) of GloVe's X."""
    import numpy as np
    from scipy.sparse import csr_matrix
    from scipy.sparse.linalg import svds

    from dlx.text.glove import cooccurrence
    from dlx.text.windows import EncodedCorpus

    backend, V = backends.current(), len(vocab)
    corpus = EncodedCorpus(sentences, vocab)
    rows, cols, x = (backend.to_host(a) for a in cooccurrence(corpus.ids, corpus.sentence, V,
                                                                window))
    totals = np.bincount(rows, weights=x, minlength=V)
    pmi = np.log(x * x.sum() / (totals[rows] * totals[cols]))
    keep = pmi > 0
    u, s, _ = svds(csr_matrix((pmi[keep], (rows[keep], cols[keep])), shape=(V, V)), k=dim,
                   random_state=0)
    return WordVectors(vocab.words, u * np.sqrt(s))


def debias_report(wv):
    backend = backends.current()
    xp = backend.xp
    pairs = [p for p in GENDER_PAIRS if p[0] in wv and p[1] in wv]
    g = bias_direction(wv, pairs)
    g_norm = float(xp.linalg.norm(g))
    neutral = [w for w in NEUTRAL if w in wv]
    before = max(abs(float(wv[w] @ g)) / g_norm for w in neutral)
    fixed = {w: neutralize(wv[w], g) for w in neutral}
    after = max(abs(float(e @ g)) / g_norm for e in fixed.values())
    worst = 0.0
    for a, b in [p for p in EQUALISE if p[0] in wv and p[1] in wv]:
        e1, e2 = equalize(wv[a], wv[b], g)
        worst = max(worst, max(abs(euclidean_distance(e1, n) - euclidean_distance(e2, n))
                               for n in fixed.values()))
    print(f"debiasing ({len(pairs)} definitional pairs, {len(neutral)} neutral words): "
          f"largest |projection on g| {before:.4f} before neutralising, {after:.2e} after; "
          f"largest | ||e_w1 - n|| - ||e_w2 - n|| | after equalising {worst:.2e}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dim", type=int, default=50)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--glove-epochs", type=int, default=50)
    parser.add_argument("--glove-lr", type=float, default=GloVeConfig.lr)
    parser.add_argument("--glove-window", type=int, default=10)
    parser.add_argument("--glove-x-max", type=float, default=GloVeConfig.x_max)
    parser.add_argument("--no-gensim", action="store_true", help="leave gensim out")
    parser.add_argument("--trainers", nargs="+", default=["word2vec", "gensim", "glove"],
                        choices=["word2vec", "gensim", "glove", "ppmi-svd"])
    parser.add_argument("--backend", default="numpy")
    parser.add_argument("--save", help="write the dlx word2vec vectors to this .npz")
    args = parser.parse_args()

    from threadpoolctl import threadpool_limits

    threadpool_limits(1, "blas")
    backends.set_backend(args.backend)
    sentences = wiki_sentences()
    vocab = Vocabulary.build(sentences, min_count=5, specials=())
    questions, sections = analogy_questions(), analogy_questions(sections=True)
    pairs = similarity_pairs("wordsim353")
    print(f"corpus: {len(sentences)} lines, {sum(map(len, sentences))} words, vocabulary "
          f"{len(vocab)} (count >= 5); {len(questions)} analogy questions")

    if "word2vec" in args.trainers:
        config = Word2VecConfig(dim=args.dim, window=5, negatives=5, epochs=args.epochs)
        start = time.perf_counter()
        w2v = train_word2vec(sentences, vocab, config)
        report("dlx word2vec (SGNS)", w2v, time.perf_counter() - start, questions, sections,
               pairs)
        if args.save:
            save_vectors(args.save, w2v.words, w2v.vectors)

    if "gensim" in args.trainers and not args.no_gensim:
        from gensim.models import Word2Vec

        start = time.perf_counter()
        model = Word2Vec(sentences, vector_size=args.dim, window=5, min_count=5, negative=5,
                         sg=1, sample=1e-3, epochs=args.epochs, workers=1, seed=0)
        ref = WordVectors(list(model.wv.index_to_key), model.wv.vectors)
        report("gensim Word2Vec (SGNS)", ref, time.perf_counter() - start, questions,
               sections, pairs)

    if "glove" in args.trainers:
        start = time.perf_counter()
        glove = train_glove(sentences, vocab, GloVeConfig(dim=args.dim, window=args.glove_window,
                                                          epochs=args.glove_epochs,
                                                          lr=args.glove_lr,
                                                          x_max=args.glove_x_max))
        report("dlx GloVe", glove, time.perf_counter() - start, questions, sections, pairs)

    if "ppmi-svd" in args.trainers:
        start = time.perf_counter()
        counted = ppmi_svd(sentences, vocab, args.dim)
        report("PPMI + SVD (scipy)", counted, time.perf_counter() - start, questions,
               sections, pairs)

    if "word2vec" in args.trainers:
        debias_report(w2v)


if __name__ == "__main__":
    main()
