"""Full-text and hybrid search over the 117,659 WordNet glosses (Debian's wordnet-base, which
scripts/env.sh installs).

Each gloss is indexed twice: its words for BM25, and a character-trigram vector (hashed into 256
dimensions) that matches spellings rather than words. A misspelled query shows why one wants
both: BM25 finds nothing for a word it has never seen, the trigram vectors find the near
spellings, and the fused ranking keeps the best of each.

    python examples/wordnet_search.py [--limit N] [--path FOLDER]
"""

from __future__ import annotations

import argparse
import time
import zlib

import numpy as np

import omendb
from omendb.text_corpora import wordnet_glosses

DIM = 256


def trigram_vectors(texts: list[str]) -> np.ndarray:
    """Hashed character-trigram counts of each text ("  wa", "wat", ...), as float32 rows."""
    vectors = np.zeros((len(texts), DIM), np.float32)
    for row, text in enumerate(texts):
        padded = f"  {text.lower()}  "
        for i in range(len(padded) - 2):
            vectors[row, zlib.crc32(padded[i:i + 3].encode()) % DIM] += 1.0
    return vectors


def show(title: str, hits) -> None:
    print(f"\n{title}")
    for hit in hits:
        print(f"  {hit.score:8.4f}  {hit.id}  {hit.document[:90]}")
    if not hits:
        print("  (no hits)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, default=None, help="index only the first N glosses")
    parser.add_argument("--path", default=":memory:", help="database folder (default: in memory)")
    args = parser.parse_args()

    pairs = wordnet_glosses()[: args.limit]
    ids = [record_id for record_id, _ in pairs]
    glosses = [gloss for _, gloss in pairs]
    parts_of_speech = [{"pos": record_id[0]} for record_id in ids]  # n, v, a, r

    with omendb.open(args.path) as db:
        col = db.collection("wordnet", dim=DIM, metric="cosine",
                            text=omendb.TextField(stemmer="english", stop_words="english"))
        started = time.perf_counter()
        for start in range(0, len(ids), 20_000):
            end = start + 20_000
            col.add(ids[start:end], trigram_vectors(glosses[start:end]), parts_of_speech[start:end],
                    documents=glosses[start:end])
        print(f"indexed {len(col):,} glosses (words and trigram vectors) in {time.perf_counter() - started:.1f} s")

        show('BM25: "a large body of fresh water"', col.search(text="a large body of fresh water", k=5))
        show('BM25, verbs only: "move quickly"', col.search(text="move quickly", k=5, where={"pos": "v"}))

        typo = "freshwatter snale"
        show(f'BM25 alone: "{typo}"', col.search(text=typo, k=5))
        query_vector = trigram_vectors([typo])[0]
        show(f'trigram vectors alone: "{typo}"', col.search(query_vector, k=5))
        show(f'hybrid (RRF): "{typo}"', col.search(query_vector, text=typo, k=5))
        show(f'hybrid (weighted 0.3 / 0.7): "{typo}"',
             col.search(query_vector, text=typo, k=5, fusion=omendb.Weighted(vector=0.3, text=0.7)))


if __name__ == "__main__":
    main()
