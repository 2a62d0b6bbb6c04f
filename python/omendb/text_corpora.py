"""Real text corpora from Debian packages, and queries drawn from them, for full-text tests and
benchmarks.

``wordnet_glosses()`` reads the ~117,000 WordNet 3.0 glosses (Debian ``wordnet-base``);
``fortunes()`` reads the fortune cookies of ``fortunes-min`` (and of any other fortune package
installed beside it). ``scripts/env.sh`` (the set-up of ``make demo`` and ``make test``) installs
both. Nothing is downloaded here: a missing corpus raises FileNotFoundError naming the package.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Sequence

import numpy as np

WORDNET_ROOT = "/usr/share/wordnet"
FORTUNES_ROOT = "/usr/share/games/fortunes"

# WordNet's data files, in the order they are read, with the part-of-speech letter of their ids.
WORDNET_FILES = (("data.noun", "n"), ("data.verb", "v"), ("data.adj", "a"), ("data.adv", "r"))

# Words as draw_queries() sees them: runs of letters and digits of the lower-cased text. Every
# query it draws is such words joined by single spaces, so a query parser (tantivy's) reads it
# as plain terms.
_WORD = re.compile(r"[^\W_]+")


def _missing(path: Path, package: str) -> FileNotFoundError:
    """The error raised when a corpus file is absent: it names the Debian package to install."""
    return FileNotFoundError(
        f"{path} not found: install the Debian package {package} "
        f"(apt-get install {package}; scripts/env.sh installs it)")


def wordnet_glosses(root: str | Path = WORDNET_ROOT) -> list[tuple[str, str]]:
    """The glosses of WordNet 3.0 as ``(id, gloss)`` pairs: 117,659 of them from wordnet-base.

    id: the part-of-speech letter of the file (n, v, a or r; satellite adjectives get "a", as
    they live in data.adj) and the 8-digit synset offset, e.g. ``"n00001740"``; unique. gloss:
    the text after the line's first ``" | "``, stripped (a definition, often with examples).
    Order: data.noun, data.verb, data.adj, data.adv, each in file order; license lines (those
    starting with two spaces) are skipped. Cost: reads ~15 MB, about 0.3 s.
    Raises FileNotFoundError naming wordnet-base when a data file is missing.
    """
    pairs = []
    for name, pos in WORDNET_FILES:
        path = Path(root) / name
        if not path.is_file():
            raise _missing(path, "wordnet-base")
        with path.open(encoding="utf-8") as lines:
            for line in lines:
                if line.startswith("  ") or not line.strip():
                    continue
                offset = line.split(" ", 1)[0]
                gloss = line.partition(" | ")[2].strip()
                pairs.append((pos + offset, gloss))
    return pairs


def fortunes(root: str | Path = FORTUNES_ROOT) -> list[tuple[str, str]]:
    """The fortune cookies under ``root`` as ``(id, text)`` pairs (821 with fortunes-min alone).

    Reads every fortune data file: a plain file beside its strfile index ``<name>.dat`` (the
    ``.u8`` links and subfolders such as ``off/`` are not read), in name order. A file's records
    are separated by lines holding only ``%``; each is stripped, empty ones are dropped. id:
    ``"fortune-<file>-<n>"``, n counting the file's kept records from 0; unique. Text is decoded
    as UTF-8, undecodable bytes replaced. Cost: reads the files once (~100 KB for fortunes-min).
    Raises FileNotFoundError naming fortunes-min when ``root`` holds no data file.
    """
    folder = Path(root)
    files = sorted(path for path in folder.glob("*.dat") if path.with_suffix("").is_file()) if folder.is_dir() else []
    if not files:
        raise _missing(folder / "fortunes", "fortunes-min")
    pairs = []
    for index_file in files:
        data = index_file.with_suffix("")
        text = data.read_bytes().decode("utf-8", errors="replace")
        records = [record.strip() for record in re.split(r"^%\n", text + "\n", flags=re.MULTILINE)]
        pairs.extend((f"fortune-{data.name}-{n}", record) for n, record in enumerate(r for r in records if r))
    return pairs


def _words(text: str) -> list[str]:
    """The words of ``text`` as draw_queries() uses them (see ``_WORD``)."""
    return _WORD.findall(text.lower())


def draw_queries(texts: Sequence[str], count: int, seed: int = 0) -> list[str]:
    """``count`` queries drawn from ``texts`` themselves, the same for the same arguments.

    The mix: one in 20 is a single rare word (in at most 2 texts), one in 20 a single word among
    the 50 most frequent (many ties among the hits), one in 40 a word written twice beside
    another (a repeated query term), the rest 2 to 4 consecutive words of a random text. Words
    are lower-cased runs of letters and digits, joined by spaces. Cost: one pass over ``texts``
    (about 1 s for the WordNet glosses). Raises ValueError when ``texts`` holds no word.
    """
    rng = np.random.default_rng(seed)
    tokenized = [_words(text) for text in texts]
    document_frequency = Counter(word for words in tokenized for word in set(words))
    if not document_frequency:
        raise ValueError("the texts hold no word to draw queries from")
    rare = sorted(word for word, df in document_frequency.items() if df <= 2)
    frequent = [word for word, _ in document_frequency.most_common(50)]
    with_words = [words for words in tokenized if words]
    singles, repeated = count // 20, count // 40
    queries = [str(rng.choice(rare or frequent)) for _ in range(singles)]
    queries += [str(rng.choice(frequent)) for _ in range(singles)]
    queries += [_repeated_term_query(with_words[rng.integers(len(with_words))], rng) for _ in range(repeated)]
    while len(queries) < count:
        queries.append(_window_query(with_words[rng.integers(len(with_words))], rng))
    order = rng.permutation(len(queries))
    return [queries[i] for i in order]


def _window_query(words: list[str], rng: np.random.Generator) -> str:
    """2 to 4 consecutive words of ``words`` (fewer when it is shorter)."""
    length = min(len(words), int(rng.integers(2, 5)))
    start = int(rng.integers(len(words) - length + 1))
    return " ".join(words[start:start + length])


def _repeated_term_query(words: list[str], rng: np.random.Generator) -> str:
    """A word of ``words`` twice, then another word of it: "w w v"."""
    first, second = (str(word) for word in rng.choice(words, size=2))
    return f"{first} {first} {second}"
