"""Folding of titles and artists to one spelling across widths, accents and scripts (vectorised with pyarrow).

:func:`fold` is the first step of every title and artist comparison, and of the
marker vocabulary's terms (mining/markers.py), so that a term and a title fold alike:

- NFKD: full-width Latin, full-width brackets and half-width katakana become
  their ordinary forms ("Ｌｏｖｅ" -> "love", "（" -> "(", "ｶﾗｵｹ" -> "カラオケ");
- combining marks dropped (accents, and the kana voicing marks that NFKD splits
  off: "バ" and "ﾊﾞ" both fold to "ハ"), lower case, "ß" -> "ss", apostrophes dropped;
- rows holding a letter NFKD keeps whole but catalogs also write plain (Turkish
  "ı", Polish "ł", "ø", "đ", "ħ": "Şımarık" = "Simarik") or CJK characters only:
  those letters made plain, traditional Chinese to simplified (OpenCC's t2s
  tables), the Japanese long-vowel mark typed as a dash between kana ("ボ-カル")
  read as "ー", and middle dots between katakana ("オリジナル・カラオケ", "･", "·")
  dropped, so that titles written with or without them fold alike.
"""

from __future__ import annotations

import functools
import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# Letters without a decomposition that catalogs also spell plain (lower case: fold lowers first).
_PLAIN = str.maketrans({"ı": "i", "ł": "l", "ø": "o", "đ": "d", "ħ": "h"})
# Those letters, kana, CJK ideographs (with extension A and compatibility ideographs): the rows of the script step.
_SPECIAL_ROW = r"[ıłøđħ\x{3040}-\x{30ff}\x{3400}-\x{4dbf}\x{4e00}-\x{9fff}\x{f900}-\x{faff}]"
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_KANA = "\u3041-\u3096\u30a1-\u30fa"
# A dash typed for the long-vowel mark: only between two kana, so a dash that opens or closes "-カラオケ-" stays.
_LONG_VOWEL = re.compile(rf"(?<=[{_KANA}])[\-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u2500\u2501](?=[{_KANA}])")
# Middle-dot variants between katakana (U+30FB after NFKD of the half-width one, U+00B7, U+2022, U+2027, U+2219, U+22C5)
_MIDDLE_DOT = re.compile(r"(?<=[\u30a1-\u30fa\u30fc])[\u30fb\u00b7\u2022\u2027\u2219\u22c5]+(?=[\u30a1-\u30fa])")


@functools.lru_cache(maxsize=1)
def _to_simplified():
    """OpenCC's traditional-to-simplified converter (phrase tables, e.g. 後來 -> 后来, 乾杯 -> 干杯)."""
    import opencc  # imported on the first CJK row: catalogs without any never load it

    return opencc.OpenCC("t2s").convert


def fold_special(text: str) -> str:
    """The script step of :func:`fold` for one already folded text."""
    text = text.translate(_PLAIN)
    if _HAN.search(text):
        text = _to_simplified()(text)
    text = _LONG_VOWEL.sub("\u30fc", text)
    return _MIDDLE_DOT.sub("", text)


def fold(values: pa.Array) -> pa.Array:
    """NFKD, drop combining marks (accents), lower-case, fold ß, drop apostrophes; then CJK scripts (see module doc).

    Args:
        values: (n,) string array (nulls stay null).

    Returns:
        (n,) folded string array.
    """
    # An ASCII text has nothing to decompose, no marks and no special letters: lower case and apostrophes
    # are all its folding, and most catalog texts are ASCII. The others take every step.
    ascii_rows = pc.fill_null(pc.string_is_ascii(values), True)
    out = pc.replace_substring_regex(pc.utf8_lower(values), r"['`]", "")
    if pc.all(ascii_rows).as_py():
        return out
    other = pc.invert(ascii_rows)
    return pc.replace_with_mask(out, other, _fold_unicode(values.filter(other)))


def _fold_unicode(values: pa.Array) -> pa.Array:
    """Every step of :func:`fold`, on texts that are not all ASCII."""
    out = pc.utf8_normalize(values, "NFKD")
    out = pc.replace_substring_regex(out, r"\p{Mn}+", "")
    out = pc.utf8_lower(out)
    out = pc.replace_substring(out, "ß", "ss")
    out = pc.replace_substring_regex(out, r"['’`´‘]", "")
    special = pc.fill_null(pc.match_substring_regex(out, _SPECIAL_ROW), False)
    if not pc.any(special).as_py():
        return out
    rows = out.filter(special).to_pylist()
    return pc.replace_with_mask(out, special, pa.array([fold_special(t) for t in rows], type=out.type))


def fold_text(text: str) -> str:
    """:func:`fold` of one string."""
    return fold(pa.array([text], type=pa.string()))[0].as_py()


def as_arrow(values) -> pa.Array:
    """(n,) strings (list, NumPy object array, pyarrow array or chunked array) as one pyarrow string array."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if isinstance(values, pa.Array):
        return values.cast(pa.string())
    return pa.array(np.asarray(values, dtype=object), type=pa.string(), from_pandas=True)
