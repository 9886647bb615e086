"""Reason codes for every row or candidate that mining sets aside.

The demo corpus records the expected code for each trap, and the report
groups rejects by these codes, so they are declared once here.
"""

# stage "ingest": a catalog row is unusable
MISSING_TITLE = "missing_title"  # title empty or absent
MISSING_ARTIST = "missing_artist"  # artist empty or absent
BAD_DURATION = "bad_duration"  # unparseable, non-positive or non-finite duration
DUPLICATE_ID = "duplicate_id"  # a track id seen on an earlier row (the first is kept)
MISSING_AUDIO_PATH = "missing_audio_path"  # audio path empty
PATH_ESCAPES_ROOT = "path_escapes_root"  # audio path resolves outside the declared audio root
AUDIO_NOT_FOUND = "audio_not_found"  # audio path does not exist, is not a file, or cannot be resolved (symlink loop)
MALFORMED_ROW = "malformed_row"  # a data record whose field count is not the header's (a stray delimiter or quote)

# stage "pairing": an instrumental, or a candidate (original, instrumental), is set aside
NO_ORIGINAL = "no_original"  # an instrumental with no candidate original by the same artist
TITLE_MISMATCH = "title_mismatch"  # candidate's base titles score below the threshold
DURATION_MISMATCH = "duration_mismatch"  # candidate's durations differ by more than the tolerance
LOST_TO_BETTER_MATCH = "lost_to_better_match"  # one-to-one: another candidate won (title score, then duration)
# unpaired.parquet only: why a valid row has no partner, beyond the pairing codes above
NO_INSTRUMENTAL = "no_instrumental"  # an original with no candidate instrumental by the same artist
PAIR_REJECTED = "pair_rejected"  # the row's pair was set aside on decoded audio (the partner carries the reject)

# stage "content": decided on decoded audio
UNDECODABLE = "undecodable"  # an audio file of the pair cannot be decoded
SAME_CONTENT = "same_content"  # the "instrumental" is the same audio as its original (mislabelled)
DUPLICATE_RECORDING = "duplicate_recording"  # the same (original, instrumental) content as a kept pair (re-release)
# (stage "content", before pairing, so that rivals can still pair: UNDECODABLE, and DURATION_MISMATCH when the
# decoded duration differs from the catalog's by more than the tolerance)

INGEST_REASONS = (MISSING_TITLE, MISSING_ARTIST, BAD_DURATION, DUPLICATE_ID, MISSING_AUDIO_PATH, PATH_ESCAPES_ROOT,
                  AUDIO_NOT_FOUND)
PAIRING_REASONS = (NO_ORIGINAL, TITLE_MISMATCH, DURATION_MISMATCH, LOST_TO_BETTER_MATCH)
UNPAIRED_REASONS = PAIRING_REASONS + (NO_INSTRUMENTAL, PAIR_REJECTED)
CONTENT_REASONS = (UNDECODABLE, SAME_CONTENT, DUPLICATE_RECORDING)

# added by the mining stage: a row whose track id is empty cannot be referenced by any pair
MISSING_ID = "missing_id"  # track id empty or absent
INGEST_REASONS = (MISSING_ID,) + INGEST_REASONS

# set apart by the CSV reader before any row check. Not in INGEST_REASONS yet: vocalmine/demo/plan.py makes
# one well-formed demo row per INGEST_REASONS code, and a malformed_row trap needs a ragged line in the demo CSV.
PARSE_REASONS = (MALFORMED_ROW,)
