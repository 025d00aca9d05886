"""English text and word-vector benchmarks read from the installed ``gensim`` wheel.

gensim ships its test data inside the wheel (``gensim/test/test_data``); dlx reads the files
from there (nothing is copied into dlx or downloaded). What is used and why:

* ``enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2``: 206 English
  Wikipedia articles (raw wiki markup); cleaned by :func:`wiki_sentences` to about 0.5M
  words of running, unstemmed text -- the largest natural English text in the wheel
  (``head500.noblanks.cor`` is bigger but Porter-stemmed, which breaks analogies such as
  "anarchy" -> "anarch"; the Lee corpus is 60k words).
* ``questions-words.txt``: Mikolov et al.'s 19,544 analogy questions in 14 sections.
* ``wordsim353.tsv`` and ``simlex999.txt``: word pairs with human similarity scores.
* ``pang_lee_polarity.cor``: 200 movie-review sentences labelled positive/negative
  (100 each; Pang and Lee's sentence-polarity data), for the sentence classifier.
"""

from __future__ import annotations

import bz2
import html
import importlib.util
import os
import re

from dlx.errors import DlxError
from dlx.text.vocab import simple_tokenize

WIKI_FILE = "enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"


def gensim_test_data(name: str) -> str:
    """Path of ``name`` inside the installed gensim wheel's ``test/test_data`` folder."""
    spec = importlib.util.find_spec("gensim")
    if spec is None or not spec.submodule_search_locations:
        raise DlxError("this corpus is read from the gensim package; install it with "
                       "pip install 'dlx[text]'")
    path = os.path.join(spec.submodule_search_locations[0], "test", "test_data", name)
    if not os.path.exists(path):
        raise DlxError(f"the installed gensim has no test_data/{name}; install the version "
                       "pinned by pip install 'dlx[text]'")
    return path


_NESTED = [re.compile(r"\{\{[^{}]*\}\}"), re.compile(r"\{\|[^{}]*?\|\}", re.S)]
_REMOVE = [re.compile(p, re.S | re.I) for p in (
    r"<!--.*?-->", r"<ref[^>/]*/>", r"<ref[^>]*>.*?</ref>",
    r"\[\[(?:file|image|category|[a-z\-]{2,12}):[^\[\]]*(?:\[\[[^\]]*\]\][^\[\]]*)*\]\]",
    r"<[^>]+>", r"'{2,}")]
_LINK = re.compile(r"\[\[(?:[^|\]]*\|)?([^\]]*)\]\]")
_EXTERNAL = re.compile(r"\[https?://\S*\s?([^\]]*)\]")


def clean_wiki_markup(text: str) -> str:
    """Plain text of a MediaWiki article: templates, tables, references, files, categories
    and tags removed; links replaced by their visible text."""
    text = html.unescape(text)
    for pattern in _NESTED:
        previous = None
        while previous != text:
            previous, text = text, pattern.sub(" ", text)
    for pattern in _REMOVE:
        text = pattern.sub(" ", text)
    text = _LINK.sub(r"\1", text)
    return _EXTERNAL.sub(r"\1", text)


def wiki_sentences(min_tokens: int = 3) -> list[list[str]]:
    """The bundled Wikipedia articles as lower-cased token lists, one per paragraph line."""
    with bz2.open(gensim_test_data(WIKI_FILE), "rt", encoding="utf-8") as handle:
        xml = handle.read()
    sentences = []
    for article in re.findall(r"<text[^>]*>(.*?)</text>", xml, re.S):
        for line in clean_wiki_markup(article).split("\n"):
            tokens = simple_tokenize(line)
            if len(tokens) >= min_tokens:
                sentences.append(tokens)
    return sentences


def analogy_questions(sections: bool = False):
    """Mikolov's analogy set as lower-case (a, b, c, d) tuples (a : b :: c : d); with
    ``sections=True`` a dict section name -> list of tuples."""
    out: dict[str, list] = {}
    current = None
    with open(gensim_test_data("questions-words.txt"), encoding="utf-8") as handle:
        for line in handle:
            if line.startswith(":"):
                current = line[1:].strip()
                out[current] = []
            elif line.strip():
                out[current].append(tuple(line.lower().split()))
    return out if sections else [q for qs in out.values() for q in qs]


def similarity_pairs(name: str = "wordsim353") -> list[tuple[str, str, float]]:
    """(word1, word2, human score) from ``wordsim353`` or ``simlex999``."""
    files = {"wordsim353": "wordsim353.tsv", "simlex999": "simlex999.txt"}
    if name not in files:
        raise DlxError(f"similarity_pairs: name must be one of {sorted(files)}, got {name!r}")
    pairs = []
    with open(gensim_test_data(files[name]), encoding="utf-8") as handle:
        for line in handle:
            parts = line.strip().split("\t")
            if line.startswith("#") or len(parts) < 3:
                continue
            try:
                pairs.append((parts[0].lower(), parts[1].lower(), float(parts[2])))
            except ValueError:
                continue  # a header line
    return pairs


def polarity_sentences() -> tuple[list[list[str]], list[int]]:
    """Pang and Lee's 200 bundled review sentences: (token lists, labels 1=pos / 0=neg)."""
    sentences, labels = [], []
    path = gensim_test_data("pang_lee_polarity.cor")
    with open(path, encoding="cp1252", errors="replace") as handle:  # the file is not UTF-8
        for line in handle:
            label, _, text = line.partition(" ")
            if label in ("__label__pos", "__label__neg"):
                sentences.append(simple_tokenize(text))
                labels.append(int(label == "__label__pos"))
    return sentences, labels
