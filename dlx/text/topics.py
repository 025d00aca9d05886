"""Topic-labelled English sentences read from the installed ``chatterbot-corpus`` wheel.

chatterbot-corpus (BSD licence, a pure-data wheel) ships per-topic chat-bot conversations
as YAML files (``chatterbot_corpus/data/english/<topic>.yml``, each ``conversations:`` a
list of lists of lines). Every distinct line (after tokenising) becomes a sentence labelled
with its file's topic -- the course's Emojify task (a sentence -> one of five emoji), with
topics in place of the course's hand-labelled sentences. Lines found under two chosen
topics are dropped.
"""

from __future__ import annotations

import importlib.util
import os

from dlx.errors import ConfigError, DlxError
from dlx.text.vocab import PAD, simple_tokenize

#: the default topics and the emoji the example prints for them (Emojify's five classes)
TOPIC_EMOJI = {"food": "\U0001F374", "sports": "\u26BE", "money": "\U0001F4B0",
               "science": "\U0001F52C", "movies": "\U0001F3AC"}


def _corpus_dir() -> str:
    spec = importlib.util.find_spec("chatterbot_corpus")
    if spec is None or not spec.submodule_search_locations:
        raise DlxError("topic sentences are read from the chatterbot-corpus package; install "
                       "it with pip install 'dlx[text]'")
    return os.path.join(spec.submodule_search_locations[0], "data", "english")


def topic_sentences(topics=tuple(TOPIC_EMOJI)) -> tuple[list[list[str]], list[int], list[str]]:
    """(token lists, labels, topic names): label k means ``topics[k]``; sentences sorted
    by topic then text, so the order never depends on the YAML reader."""
    try:
        import yaml
    except ImportError as err:
        raise DlxError("reading chatterbot-corpus needs PyYAML; install it with "
                       "pip install 'dlx[text]'") from err
    folder, topics = _corpus_dir(), list(topics)
    lines_of = {}
    for topic in topics:
        path = os.path.join(folder, f"{topic}.yml")
        if not os.path.exists(path):
            raise ConfigError(f"topic_sentences: chatterbot-corpus has no English topic "
                              f"{topic!r} (no {path})")
        with open(path, encoding="utf-8") as handle:
            data = yaml.safe_load(handle)
        talks = data.get("conversations", [])
        lines_of[topic] = {tuple(simple_tokenize(line)) for talk in talks for line in talk
                           if isinstance(line, str)} - {()}
    shared = {line for t in topics for line in lines_of[t]
              if sum(line in lines_of[u] for u in topics) > 1}
    sentences, labels = [], []
    for label, topic in enumerate(topics):
        for tokens in sorted(lines_of[topic] - shared):
            sentences.append(list(tokens))
            labels.append(label)
    return sentences, labels, topics


def padded_ids(sentences, vocab) -> list[list[int]]:
    """Each sentence's ids (unknown words -> ``<unk>``), right-padded with ``<pad>``'s id to
    the longest sentence: rows of the (m, T) input the classifiers read."""
    T, pad = max(len(s) for s in sentences), vocab.ids[PAD]
    return [vocab.encode(s) + [pad] * (T - len(s)) for s in sentences]
