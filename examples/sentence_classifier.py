"""The course's Emojify models on Pang and Lee's labelled review sentences (in gensim's wheel).

    python examples/sentence_classifier.py [--vectors vectors.npz] [--seed 0]

Data: the 200 sentences of gensim's ``pang_lee_polarity.cor`` (100 positive, 100 negative),
split 140 train / 60 test, stratified. Word vectors: a ``.npz`` written by
``examples/word_vectors.py --save`` (dlx word2vec on the bundled Wikipedia text), or, without
``--vectors``, trained here the same way. Words without a vector map to <unk> (a zero
vector). V1 averages the frozen embeddings; V2 runs an LSTM over them.
"""

import argparse
import random
import time

from dlx import backends
from dlx.text import Vocabulary
from dlx.text.classify import AveragedEmbeddingClassifier, LSTMClassifier
from dlx.text.corpora import polarity_sentences, wiki_sentences
from dlx.text.io import load_vectors
from dlx.text.vocab import PAD, UNK
from dlx.text.word2vec import Word2VecConfig, train_word2vec
from dlx.train import evaluate, fit


def stratified_split(labels, test: int, seed: int):
    rnd = random.Random(seed)
    by_class = {}
    for i, y in enumerate(labels):
        by_class.setdefault(y, []).append(i)
    test_idx = []
    for members in by_class.values():
        rnd.shuffle(members)
        test_idx += members[:test // len(by_class)]
    test_set = set(test_idx)
    return [i for i in range(len(labels)) if i not in test_set], sorted(test_idx)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vectors")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--backend", default="numpy")
    args = parser.parse_args()

    from threadpoolctl import threadpool_limits

    threadpool_limits(1, "blas")
    backend = backends.set_backend(args.backend)
    backend.seed(args.seed)
    xp = backend.xp
    sentences, labels = polarity_sentences()
    if args.vectors:
        words, vectors = load_vectors(args.vectors)
        vectors = backend.asarray(vectors)
    else:
        wiki = wiki_sentences()
        start = time.perf_counter()
        wv = train_word2vec(wiki, Vocabulary.build(wiki, min_count=5, specials=()),
                            Word2VecConfig(dim=50))
        print(f"word2vec on the bundled Wikipedia text: {time.perf_counter() - start:.0f} s")
        words, vectors = wv.words, wv.vectors
    vocab = Vocabulary([PAD, UNK] + list(words))
    table = xp.concatenate([xp.zeros((2, vectors.shape[1]), dtype=vectors.dtype), vectors])
    T = max(len(s) for s in sentences)
    X = backend.asarray([vocab.encode(s) + [0] * (T - len(s)) for s in sentences],
                        dtype=xp.int64)
    y = backend.asarray(labels, dtype=xp.int64)
    known = sum(w in vocab.ids for s in sentences for w in s) / sum(map(len, sentences))
    train, test = stratified_split(labels, 60, args.seed)
    train, test = backend.asarray(train), backend.asarray(test)
    print(f"{len(sentences)} sentences ({sum(labels)} positive), {len(train)} train / "
          f"{len(test)} test; {known:.1%} of the words have a vector")

    for name, model, epochs, lr in [
            ("V1 averaged embeddings", AveragedEmbeddingClassifier(table, 2), 200, 0.05),
            ("V2 LSTM over embeddings", LSTMClassifier(table, 2, n_a=32), 40, 0.01)]:
        start = time.perf_counter()
        fit(model, (X[train], y[train]), epochs=epochs, batch_size=32, lr=lr, verbose=False)
        model.eval()
        tr = evaluate(model, (X[train], y[train]))["accuracy"]
        te = evaluate(model, (X[test], y[test]))["accuracy"]
        print(f"{name}: train accuracy {tr:.3f}, test accuracy {te:.3f} "
              f"({time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
