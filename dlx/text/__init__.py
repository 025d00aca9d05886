"""Text: vocabularies, word-vector tools and debiasing, word2vec and GloVe, beam search, BLEU.

See docs/text.md. Corpora (``dlx.text.corpora``) and dates (``dlx.text.dates``) need the
``text`` extra; the seq2seq model lives in ``dlx.text.seq2seq``.
"""

from dlx.text.beam import beam_error_analysis, beam_search, greedy_decode
from dlx.text.bleu import corpus_bleu, sentence_bleu
from dlx.text.debias import bias_direction, equalize, neutralize
from dlx.text.glove import GloVeConfig, train_glove
from dlx.text.io import load_vectors, save_vectors
from dlx.text.vectors import WordVectors, cosine_similarity, euclidean_distance
from dlx.text.vocab import BOS, EOS, PAD, UNK, Vocabulary, simple_tokenize
from dlx.text.word2vec import Word2VecConfig, train_word2vec

__all__ = ["BOS", "EOS", "GloVeConfig", "PAD", "UNK", "Vocabulary", "Word2VecConfig",
           "WordVectors", "beam_error_analysis", "beam_search", "bias_direction",
           "corpus_bleu", "cosine_similarity", "equalize", "euclidean_distance",
           "greedy_decode", "load_vectors", "neutralize", "save_vectors", "sentence_bleu",
           "simple_tokenize", "train_glove", "train_word2vec"]
