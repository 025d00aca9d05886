"""The course's Emojify models: a sentence -> the emoji of its topic (chatterbot-corpus).

    python examples/sentence_classifier.py [--vectors vectors.npz] [--no-word2vec] [--seed 0]

Data: the distinct English lines of five topics of the chatterbot-corpus wheel
(``dlx.text.topics``: food, sports, money, science, movies -> five emoji, as Emojify's five
classes), 218 sentences, a stratified 70/30 train/test split with ``--seed``. Models: V1
averages the embeddings of a sentence's words, then softmax; V2 runs an LSTM over them,
then softmax. Each is trained three times: on frozen word vectors (a ``.npz`` from
``examples/word_vectors.py --save``, or dlx word2vec trained here on gensim's bundled
Wikipedia text, minutes), starting from them and fine-tuning them, and with the embedding
trained jointly from a random start. The majority-class baseline is printed next to them.
"""

import argparse
import time

import numpy as np

from dlx import backends
from dlx.data.datasets import train_dev_test_split
from dlx.text import Vocabulary
from dlx.text.classify import AveragedEmbeddingClassifier, LSTMClassifier
from dlx.text.io import load_vectors
from dlx.text.topics import TOPIC_EMOJI, padded_ids, topic_sentences
from dlx.text.vocab import PAD, UNK
from dlx.train import evaluate, fit

MODELS = [("V1 averaged embeddings", lambda t, frozen: AveragedEmbeddingClassifier(
               t, len(TOPIC_EMOJI), frozen=frozen), 150, 0.05),
          ("V2 LSTM over embeddings", lambda t, frozen: LSTMClassifier(
               t, len(TOPIC_EMOJI), n_a=32, frozen=frozen), 40, 0.01)]


def word2vec_table(args):
    if args.vectors:
        return load_vectors(args.vectors)
    from dlx.text.corpora import wiki_sentences
    from dlx.text.word2vec import Word2VecConfig, train_word2vec

    wiki = wiki_sentences()
    start = time.perf_counter()
    wv = train_word2vec(wiki, Vocabulary.build(wiki, min_count=5, specials=()),
                        Word2VecConfig(dim=50))
    print(f"word2vec on the bundled Wikipedia text: {time.perf_counter() - start:.0f} s")
    return wv.words, backends.current().to_host(wv.vectors)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vectors", help="word vectors (.npz or GloVe text) to start from")
    parser.add_argument("--no-word2vec", action="store_true",
                        help="only the jointly trained embeddings (seconds, not minutes)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--backend", default="numpy")
    args = parser.parse_args()

    from threadpoolctl import threadpool_limits

    threadpool_limits(1, "blas")
    backend = backends.set_backend(args.backend)
    sentences, labels, topics = topic_sentences()
    index = np.arange(len(sentences))
    split = train_dev_test_split(index, np.asarray(labels), test=0.3, seed=args.seed)
    train_text = [sentences[i] for i in split.X_train]
    majority = np.bincount(split.y_test).max() / len(split.y_test)
    print(f"{len(sentences)} sentences in {len(topics)} topics "
          f"({', '.join(f'{t} {TOPIC_EMOJI[t]}' for t in topics)}), {len(split.X_train)} "
          f"train / {len(split.X_test)} test; majority-class test accuracy {majority:.3f}")

    starts = [("trained jointly", None, False)]
    if not args.no_word2vec:
        vectors = word2vec_table(args)
        starts[:0] = [("word2vec, frozen", vectors, True), ("word2vec, fine-tuned", vectors, False)]
    for start_name, pretrained, frozen in starts:
        if pretrained is None:  # words of the training sentences, random vectors
            vocab = Vocabulary([PAD, UNK] + sorted({w for s in train_text for w in s}))
            table = np.random.default_rng(args.seed).normal(0, 0.1, (len(vocab), 50))
        else:
            words, vectors = pretrained
            vocab = Vocabulary([PAD, UNK] + list(words))
            table = np.concatenate([np.zeros((2, vectors.shape[1])), vectors])
            if frozen:
                known = np.mean([w in vocab.ids for s in sentences for w in s])
                print(f"{known:.1%} of the words have a word2vec vector")
        table[:2] = 0  # <pad> and <unk> are zero vectors
        X = backend.asarray(padded_ids(sentences, vocab), dtype=backend.xp.int64)
        y = backend.asarray(labels, dtype=backend.xp.int64)
        train, test = backend.asarray(split.X_train), backend.asarray(split.X_test)
        for name, make, epochs, lr in MODELS:
            backend.seed(args.seed)
            model = make(table.astype(np.float32), frozen)
            began = time.perf_counter()
            fit(model, (X[train], y[train]), epochs=epochs, batch_size=16, lr=lr,
                verbose=False)
            model.eval()
            tr = evaluate(model, (X[train], y[train]))["accuracy"]
            te = evaluate(model, (X[test], y[test]))["accuracy"]
            print(f"{name:<24} {start_name:<20} train accuracy {tr:.3f}, test accuracy "
                  f"{te:.3f} ({time.perf_counter() - began:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
