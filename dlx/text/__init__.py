"""Text: vocabularies, word-vector tools and debiasing, word2vec and GloVe, beam search, BLEU."""

from dlx.text.debias import bias_direction, equalize, neutralize
from dlx.text.vectors import WordVectors, cosine_similarity, euclidean_distance
from dlx.text.vocab import BOS, EOS, PAD, UNK, Vocabulary, simple_tokenize

__all__ = ["BOS", "EOS", "PAD", "UNK", "Vocabulary", "WordVectors", "bias_direction",
           "cosine_similarity", "equalize", "euclidean_distance", "neutralize",
           "simple_tokenize"]
