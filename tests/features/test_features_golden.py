"""Golden values: the alignment, gain and quality record of one fixed pair must not drift."""

from __future__ import annotations

import pytest

from vocalmine.features.pair import pair_features
from vocalmine.testing.pairs import known_pair

# pair_features(known_pair()) with the default FeaturesConfig (vocalmine 0.1.0, numpy 2, scipy fft)
GOLDEN = {
    "offset": 1234,  # exact: the instrumental lags by 1234 samples
    "gain": 1.5000425,  # true 1.5
    "wave_gain": 1.5006534,
    "coherence": 0.99977652,
    "segment_coherence": 0.99973349,
    "vocal_ratio": 0.15959537,
    "carried_fraction": 0.98666194,
    "scale": 51.158428,
}


def test_alignment_gain_and_quality_record_of_a_fixed_pair():
    pair = known_pair()
    result = pair_features(pair.original, pair.instrumental)
    assert result.reason == ""
    assert result.offset == GOLDEN["offset"] == pair.lag
    got = {key: float(getattr(result, key)) for key in GOLDEN if key != "offset"}
    assert got == pytest.approx({k: v for k, v in GOLDEN.items() if k != "offset"}, rel=2e-5)
    assert abs(result.delay) < 0.01  # an integer lag leaves no sub-sample delay
