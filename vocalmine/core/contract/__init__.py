"""The stage contract: every artifact's schema, file names, layout and reason codes, declared once.

- ``pairs``: pairs.parquet, the fingerprint cache and unpaired.parquet (mine);
- ``mining_reasons`` and ``features_reasons``: the reason codes of rejects and exclusions;
- ``shards``: the shards folder (waveform shards, index, quality and rejects tables) between build and train;
- ``models``: a training run folder's files between train, separate and evaluate;
- ``scores``: the evaluation tables;
- ``report``: the report folder.

The rejects schema shared by mine and build, and the schema version every Parquet
artifact carries in its metadata, live in :mod:`vocalmine.core.tables`.
Every stage imports these names from here; nothing else spells an artifact's file name.
"""
