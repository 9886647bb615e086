"""The generated demo corpus (``vocalmine demo-data``): a messy catalog with known truth.

Modules: score (compositions), synth (vocal and accompaniment signals),
release (mastering, offsets, formats), names (messy metadata), plan (rows,
traps, expected verdicts), family (rendering one song and its releases),
corpus (``generate_corpus`` and ``CorpusSummary``).
"""
