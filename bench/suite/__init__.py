"""The OmenDB benchmark suite: OmenDB against hnswlib, FAISS, USearch (libraries) and Chroma,
LanceDB, Qdrant local mode and the earlier OmenDB from PyPI (databases), in one run.

Entry point: ``python bench/run.py`` (``--smoke``, ``--quick`` or the full run); results go to a
JSON file and a Markdown report with plots (``report.py``). Each system runs in its own worker
process (``worker.py``) driven by the parent (``client.py``), so memory is measured in a fresh
process and the earlier OmenDB can live in its own virtual environment. See bench/README.md.
"""
