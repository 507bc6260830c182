"""Labelled sets, their scorers, the benchmarks and the experiments: how good and how fast, apart from the tests.

Run from the repository root: ``make bench`` (benchmarks and quality evaluations), ``make eval``
(the quality evaluations alone), or one module, ``python -m evaluation.<area>.<module>``.
The research corpora are read where ``NEWS_CORPORA_DIR`` points (``evaluation/settings.py``).
"""
