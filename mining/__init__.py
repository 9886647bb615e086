"""The `mine` stage: reads the track catalog (CSV) and its audio, sets malformed rows aside, pairs each original
with its instrumental release within an artist, and drops same-audio and re-released content; writes pairs,
unpaired and rejects tables and a fingerprint cache. Entry point: :func:`vocalmine.mining.mine.mine`."""
