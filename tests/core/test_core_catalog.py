"""The data catalog loader: valid files load, every kind of mistake is named."""

import re
from pathlib import Path

import pytest

from vocalmine.core.catalog import DEFAULT_YAML_TEMPLATE, load_catalog
from vocalmine.core.errors import CatalogError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "data_catalog.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def default_text() -> str:
    return DEFAULT_YAML_TEMPLATE.format(corpus="corpus", work="work")


def test_valid_catalog_resolves_paths_against_yaml_dir(tmp_path):
    catalog = load_catalog(write(tmp_path, default_text()))
    assert catalog.tracks.path == tmp_path / "corpus" / "catalog.csv"
    assert catalog.tracks.audio_root == tmp_path / "corpus"
    assert catalog.pairs == tmp_path / "work" / "pairs.parquet"
    assert catalog.eval_set.path == tmp_path / "corpus" / "eval" / "eval.csv"
    assert catalog.tracks.columns.title == "title"
    assert catalog.tracks.columns.genre is None
    assert catalog.tracks.duration_unit == "auto"


def test_repo_default_catalog_loads():
    catalog = load_catalog(Path(__file__).resolve().parents[2] / "data_catalog.yaml")
    assert catalog.tracks.path.name == "catalog.csv"


def test_catalog_is_frozen(tmp_path):
    catalog = load_catalog(write(tmp_path, default_text()))
    with pytest.raises(AttributeError):
        catalog.pairs = tmp_path  # type: ignore[misc]


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda t: t + "surprise: 1\n", r"unknown key 'surprise'"),
        (lambda t: t.replace("  path: corpus/catalog.csv\n", ""), r"missing key 'tracks.path'"),
        (lambda t: t.replace("    title: title\n", ""), r"missing key 'tracks.columns.title'"),
        (lambda t: t.replace("    title: title\n", "    title: title\n    colour: red\n"), r"unknown key 'tracks.columns.colour'"),
        (lambda t: t.replace("pairs: work/pairs.parquet", "pairs: 3"), r"key 'pairs' must be a non-empty string, got 3"),
        (lambda t: t.replace("duration_unit: auto", "duration_unit: hours"), r"tracks.duration_unit' must be one of"),
        (lambda t: re.sub(r"eval_set:\n(  .*\n)+", "eval_set: [1, 2]\n", t), r"'eval_set' must be a mapping"),
    ],
)
def test_mistakes_name_file_and_key(tmp_path, edit, message):
    path = write(tmp_path, edit(default_text()))
    with pytest.raises(CatalogError, match=message) as info:
        load_catalog(path)
    assert str(path) in str(info.value)


def test_missing_file_and_bad_yaml(tmp_path):
    with pytest.raises(CatalogError, match="data catalog not found"):
        load_catalog(tmp_path / "nope.yaml")
    with pytest.raises(CatalogError, match="not valid YAML"):
        load_catalog(write(tmp_path, "tracks: [unclosed\n"))
    with pytest.raises(CatalogError, match="'top level' must be a mapping"):
        load_catalog(write(tmp_path, "- a list\n"))
    with pytest.raises(CatalogError, match="missing key 'tracks'"):
        load_catalog(write(tmp_path, ""))


def test_yaml_is_loaded_safely(tmp_path):
    text = "!!python/object/apply:os.system ['echo pwned']\n"
    with pytest.raises(CatalogError, match="not valid YAML"):
        load_catalog(write(tmp_path, text))


METADATA_ONLY = """\
tracks:
  path: tracks.csv
  columns:
    track_id: id
    artist: artists
    title: track_name
    duration: duration_ms
"""


def test_metadata_only_catalog_needs_only_path_and_columns(tmp_path):
    catalog = load_catalog(write(tmp_path, METADATA_ONLY))
    work = tmp_path / "data" / "work"
    assert catalog.tracks.path == tmp_path / "tracks.csv"
    assert catalog.tracks.audio_root == tmp_path  # the CSV's folder
    assert catalog.tracks.columns.audio_path is None
    assert catalog.tracks.columns.album is None
    assert catalog.tracks.duration_unit == "auto" and catalog.tracks.delimiter == ","
    assert (catalog.pairs, catalog.rejects, catalog.fingerprints) == (
        work / "pairs.parquet", work / "rejects.parquet", work / "fingerprints.parquet")
    assert (catalog.shards, catalog.report, catalog.models, catalog.evaluation, catalog.separated) == (
        work / "shards", work / "report", work / "models", work / "evaluation", work / "separated")
    assert catalog.eval_set.path == tmp_path / "data" / "eval" / "eval.csv"
    assert catalog.eval_set.audio_root == tmp_path / "data" / "eval"


def test_given_keys_override_the_defaults(tmp_path):
    text = METADATA_ONLY + "pairs: elsewhere/p.parquet\neval_set:\n  path: ev/e.csv\n"
    catalog = load_catalog(write(tmp_path, text))
    assert catalog.pairs == tmp_path / "elsewhere" / "p.parquet"
    assert catalog.eval_set.audio_root == tmp_path / "ev"


def test_outputs_left_out_go_beside_the_named_ones(tmp_path):
    out = tmp_path / "elsewhere"
    catalog = load_catalog(write(tmp_path, METADATA_ONLY + "pairs: elsewhere/p.parquet\n"))
    assert (catalog.rejects, catalog.unpaired, catalog.fingerprints) == (
        out / "rejects.parquet", out / "unpaired.parquet", out / "fingerprints.parquet")
    assert (catalog.shards, catalog.report, catalog.models, catalog.evaluation, catalog.separated, catalog.dataset) == (
        out / "shards", out / "report", out / "models", out / "evaluation", out / "separated", out / "dataset")
    assert not (tmp_path / "data" / "work").exists()


def test_the_first_named_output_decides_and_named_ones_stay(tmp_path):
    text = METADATA_ONLY + "shards: /abs/shards\nunpaired: u/unpaired.parquet\nmodels: m/models\n"
    catalog = load_catalog(write(tmp_path, text))
    # unpaired comes before shards in the catalog's field order
    assert catalog.unpaired == tmp_path / "u" / "unpaired.parquet"
    assert catalog.shards == Path("/abs/shards") and catalog.models == tmp_path / "m" / "models"
    assert (catalog.pairs, catalog.rejects, catalog.report) == (
        tmp_path / "u" / "pairs.parquet", tmp_path / "u" / "rejects.parquet", tmp_path / "u" / "report")


def test_an_invalid_named_output_is_still_one_error(tmp_path):
    path = write(tmp_path, METADATA_ONLY + "pairs: 3\n")
    with pytest.raises(CatalogError, match=r"key 'pairs' must be a non-empty string, got 3"):
        load_catalog(path)


def test_every_problem_is_reported_in_one_message(tmp_path):
    text = (METADATA_ONLY.replace("    title: track_name\n", "").replace("  path: tracks.csv\n", "")
            + "surprise: 1\nshards: 3\neval_set:\n  colour: red\n")
    path = write(tmp_path, text)
    with pytest.raises(CatalogError) as info:
        load_catalog(path)
    message = str(info.value)
    assert "\n" not in message and message.startswith(f"{path}: 5 problems: ")
    for part in ["unknown key 'surprise'", "missing key 'tracks.path'", "missing key 'tracks.columns.title'",
                 "key 'shards' must be a non-empty string, got 3", "unknown key 'eval_set.colour'"]:
        assert part in message, part
