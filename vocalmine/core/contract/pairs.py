"""Declared schema of pairs.parquet (rejects use vocalmine.core.tables.REJECTS_SCHEMA)."""

import hashlib

import pyarrow as pa

PAIRS_SCHEMA = pa.schema(
    [
        ("pair_id", pa.string()),  # stable: pair_id_for(original_id, instrumental_id)
        ("original_id", pa.string()),  # track id of the original mix
        ("instrumental_id", pa.string()),  # track id of the instrumental
        ("artist", pa.string()),  # artist as in the catalog (of the original)
        ("artist_norm", pa.string()),  # normalised artist: the blocking key and the split key
        ("original_title", pa.string()),  # titles as in the catalog
        ("instrumental_title", pa.string()),
        ("base_title", pa.string()),  # normalised title with the instrumental marker removed
        ("title_score", pa.float64()),  # rapidfuzz score of the base titles, 0..100
        ("title_threshold", pa.float64()),  # threshold the score had to reach
        ("original_duration_s", pa.float64()),
        ("instrumental_duration_s", pa.float64()),
        ("duration_delta_s", pa.float64()),  # instrumental minus original, seconds
        # audio paths relative to the catalog's tracks.audio_root, POSIX ("album/track.flac");
        ("original_path", pa.string()),
        # "" in a metadata-only catalog. Readers resolve them with vocalmine.core.paths.resolve_under
        ("instrumental_path", pa.string()),
        ("original_fingerprint", pa.string()),  # content fingerprint of the decoded audio (hex)
        ("instrumental_fingerprint", pa.string()),
        ("marker", pa.string()),  # the instrumental marker as found in the title (folded), e.g. "off vocal ver."
        # instrumental | karaoke | off_vocal | backing_track | minus_one (mining/markers.yaml; karaoke-type may keep
        # backing vocals)
        ("marker_family", pa.string()),
    ]
)

# unpaired.parquet: every valid catalog row that ends in no pair and in no reject, with its nearest candidate.
UNPAIRED_SCHEMA = pa.schema(
    [
        ("track_id", pa.string()),  # the catalog row's id
        ("role", pa.string()),  # original | instrumental (carries a marker)
        ("artist", pa.string()),  # as in the catalog
        ("title", pa.string()),  # as in the catalog
        ("duration_s", pa.float64()),  # catalog duration (decoded when the catalog had none); NaN when unknown
        ("marker", pa.string()),  # the instrumental marker found ("" for originals)
        ("marker_family", pa.string()),  # a family of mining/markers.yaml, or ""
        ("reason", pa.string()),  # why it has no partner: a pairing reason code, no_instrumental or pair_rejected
        ("nearest_id", pa.string()),  # the best candidate partner considered (None when there was none)
        ("nearest_title", pa.string()),  # its title
        ("nearest_score", pa.float64()),  # title score against it, 0..100; NaN when none
        ("detail", pa.string()),  # why that candidate lost, in words
    ]
)


def pair_id_for(original_id: str, instrumental_id: str) -> str:
    """A stable 16-hex-digit id for the pair (original_id, instrumental_id)."""
    return hashlib.sha1(f"{original_id}\x1f{instrumental_id}".encode("utf-8")).hexdigest()[:16]


# The fingerprint cache (catalog.fingerprints), keyed by (path, size, mtime_ns).
FINGERPRINTS_SCHEMA = pa.schema(
    [
        ("path", pa.string()),  # absolute audio path
        ("size", pa.int64()),  # bytes, from stat
        ("mtime_ns", pa.int64()),  # modification time, ns, from stat
        ("seconds", pa.float64()),  # fingerprint_seconds the envelope was computed with
        ("n_frames", pa.int64()),  # rows of the envelope
        ("duration_s", pa.float64()),  # decoded duration
        ("features", pa.binary()),  # uint8 (n_frames, 16) envelope, see mining/fingerprint.py
        ("error", pa.string()),  # "" or why the file could not be decoded
    ]
)
