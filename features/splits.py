"""Train/validation/test splits by normalised artist, deterministic for a seed.

Artists are linked when they share a recording (the same original or
instrumental content fingerprint, or the same track id): linked artists form
one component and a component goes to one split, so neither an artist nor a
duplicate recording appears in two splits. Components are ordered by a seeded
hash and assigned greedily to the split furthest below its target share of
pairs.
"""

from __future__ import annotations

import hashlib

import pandas as pd

from vocalmine.core.contract.shards import SPLITS

LINK_COLUMNS = ("original_fingerprint", "instrumental_fingerprint", "original_id", "instrumental_id")


def _components(pairs: pd.DataFrame) -> dict[str, str]:
    """Map each artist_norm to its component's representative (the smallest artist in it)."""
    parent: dict[str, str] = {a: a for a in pairs["artist_norm"]}

    def find(a: str) -> str:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    def union(a: str, b: str) -> None:
        ra, rb = find(a), find(b)
        if ra != rb:
            lo, hi = sorted((ra, rb))
            parent[hi] = lo

    for column in LINK_COLUMNS:
        if column not in pairs.columns:
            continue
        keyed = pairs[[column, "artist_norm"]].dropna()
        keyed = keyed[keyed[column].astype(str) != ""]
        for _, artists in keyed.groupby(column, sort=True)["artist_norm"]:
            first = artists.iloc[0]
            for other in artists.iloc[1:]:
                union(first, other)
    return {a: find(a) for a in parent}


def assign_splits(pairs: pd.DataFrame, *, seed: int = 0,
                  fractions: tuple[float, float, float] = (0.8, 0.1, 0.1)) -> pd.Series:
    """Split of every pair.

    Args:
        pairs: DataFrame with ``pair_id`` and ``artist_norm`` (and optionally the
            LINK_COLUMNS that tie duplicate recordings together).
        seed: changes the assignment; the same seed gives the same splits.
        fractions: target share of pairs for train, validation, test.

    Returns:
        Series of split names indexed like ``pairs``.
    """
    if pairs.empty:
        return pd.Series([], dtype=object, index=pairs.index)
    artists = pairs["artist_norm"].fillna("").astype(str)
    component = artists.map(_components(pairs.assign(artist_norm=artists)))
    sizes = component.value_counts()
    order = sorted(sizes.index, key=lambda c: (hashlib.sha1(f"{seed}\x1f{c}".encode()).hexdigest(), c))
    total_target = sum(fractions)
    shares = [f / total_target for f in fractions]
    assigned = [0.0, 0.0, 0.0]
    split_of: dict[str, str] = {}
    for comp in order:
        done = sum(assigned) + sizes[comp]
        deficits = [share * done - got for share, got in zip(shares, assigned)]
        best = max(range(3), key=lambda i: (deficits[i] if shares[i] > 0 else float("-inf"), -i))
        assigned[best] += sizes[comp]
        split_of[comp] = SPLITS[best]
    return component.map(split_of)
