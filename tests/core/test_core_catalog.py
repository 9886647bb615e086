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
        (lambda t: t.replace("pairs: work/pairs.parquet\n", ""), r"missing key 'pairs'"),
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


def test_yaml_is_loaded_safely(tmp_path):
    text = "!!python/object/apply:os.system ['echo pwned']\n"
    with pytest.raises(CatalogError, match="not valid YAML"):
        load_catalog(write(tmp_path, text))
