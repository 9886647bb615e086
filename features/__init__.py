"""The `build` and `export-dataset` stages: read the mined pairs and their audio, align and gain-match each pair,
gate it on phase coherence and store the kept ones at the signal spec (waveform shards plus index, quality and
rejects tables), or as stem folders for other trainers. Entry points: :func:`vocalmine.features.build.build`,
:func:`vocalmine.features.export.export_dataset`."""
