"""Reason codes for pairs the features stage sets aside (stage "features")."""

UNDECODABLE = "undecodable"  # an audio file of the pair cannot be decoded
SILENT = "silent"  # the original or the instrumental is (nearly) silent
TOO_SHORT = "too_short"  # the aligned overlap is shorter than the minimum length
TOO_SIMILAR = "too_similar"  # no vocal content: original ≈ g·instrumental everywhere
TOO_DIFFERENT = "too_different"  # a different recording: weak alignment or large residual

FEATURES_REASONS = (UNDECODABLE, SILENT, TOO_SHORT, TOO_SIMILAR, TOO_DIFFERENT)
