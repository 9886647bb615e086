"""`evaluate`: NSDR definition, reference systems, exclusions, outputs, Dask and the CLI."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
import torch
from click.testing import CliRunner

from vocalmine.commands.context import Context
from vocalmine.commands.evaluate import evaluate_command
from vocalmine.core.catalog import catalog_for_corpus, load_catalog
from vocalmine.core.errors import CatalogError, ConfigError
from vocalmine.core.tables import read_table
from vocalmine.evaluation.bss import mir_eval_sources
from vocalmine.evaluation.clips import ClipJob, model_estimates, score_clip
from vocalmine.evaluation.evaluate import EvaluateConfig, evaluate
from vocalmine.core.contract.scores import EXCLUDED_SCHEMA, SCORES_SCHEMA
from vocalmine.model.checkpoint import make_payload, save_checkpoint
from vocalmine.model.unet import UNet

SR = 8192


def _stems(seconds: float, seed: int, silent_vocals: bool = False) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    f0 = (196 + 40 * seed) * (1 + 0.01 * np.sin(2 * np.pi * 5 * t))
    phase = 2 * np.pi * np.cumsum(f0) / SR
    vocals = 0.3 * sum(np.sin(k * phase) / k for k in range(1, 6)) * (np.sin(2 * np.pi * 0.8 * t) > -0.3)
    accomp = 0.1 * sum(np.sin(2 * np.pi * f * t) for f in (110.0, 138.6, 164.8)) + 0.05 * rng.standard_normal(t.size)
    if silent_vocals:
        vocals = np.zeros_like(vocals)
    return vocals.astype(np.float32), accomp.astype(np.float32)


def _corpus(root: Path, clips=(("s1", 2.1, False), ("s2", 1.6, False), ("s3", 1.2, True))) -> Path:
    """An eval set under root/corpus/eval and a catalog yaml; returns the yaml path."""
    eval_dir = root / "corpus" / "eval"
    eval_dir.mkdir(parents=True)
    rows = []
    for k, (song, seconds, silent) in enumerate(clips):
        v, a = _stems(seconds, k, silent)
        for name, y in (("mixture", v + a), ("vocals", v), ("accompaniment", a)):
            sf.write(eval_dir / f"{song}.{name}.wav", y, SR, subtype="FLOAT")
        rows.append({"song": song, "mixture": f"{song}.mixture.wav", "vocals": f"{song}.vocals.wav",
                     "accompaniment": f"{song}.accompaniment.wav", "duration_s": seconds})
    pd.DataFrame(rows).to_csv(eval_dir / "eval.csv", index=False)
    yaml_file = root / "data_catalog.yaml"
    yaml_file.write_text(catalog_for_corpus(yaml_file, root / "corpus", root / "work"), encoding="utf-8")
    return yaml_file


def _job(root: Path, song: str, systems=("mixture", "oracle-irm"), backend="fast") -> ClipJob:
    d = root / "corpus" / "eval"
    return ClipJob(song, d / f"{song}.mixture.wav", d / f"{song}.vocals.wav", d / f"{song}.accompaniment.wav",
                   systems=systems, model_sets=(), backend=backend)


@pytest.mark.slow
def test_nsdr_is_sdr_of_estimate_minus_sdr_of_mixture(tmp_path):
    _corpus(tmp_path)
    rows = pd.DataFrame(score_clip(_job(tmp_path, "s1", backend="mir_eval"))["rows"])
    np.testing.assert_allclose(rows["nsdr"], rows["sdr"] - rows["sdr_mixture"])
    mixture = rows[rows["system"] == "mixture"]
    assert np.all(mixture["nsdr"] == 0.0)  # by definition
    v, a = _stems(2.1, 0)
    refs = np.stack([v, a]).astype(np.float64)
    sdr_mix = mir_eval_sources(refs, np.stack([v + a, v + a]).astype(np.float64))[0]
    np.testing.assert_allclose(mixture.set_index("source").loc[["vocals", "instrumental"], "sdr"], sdr_mix, atol=1e-6)


@pytest.mark.slow
def test_fast_backend_matches_mir_eval_on_a_clip(tmp_path):
    _corpus(tmp_path)
    fast = pd.DataFrame(score_clip(_job(tmp_path, "s2"))["rows"])
    slow = pd.DataFrame(score_clip(_job(tmp_path, "s2", backend="mir_eval"))["rows"])
    oracle = lambda df: df[df["system"] == "oracle-irm"][["sdr", "sir", "sar", "nsdr"]].to_numpy()  # noqa: E731
    np.testing.assert_allclose(oracle(fast), oracle(slow), atol=0.01)


def test_oracle_mask_scores_far_above_the_mixture(tmp_path):
    _corpus(tmp_path)
    rows = pd.DataFrame(score_clip(_job(tmp_path, "s1"))["rows"]).set_index(["system", "source"])
    assert rows.loc[("oracle-irm", "vocals"), "nsdr"] > 8.0
    assert rows.loc[("oracle-irm", "instrumental"), "nsdr"] > 8.0
    assert rows.loc[("oracle-irm", "vocals"), "sir"] > rows.loc[("mixture", "vocals"), "sir"] + 10


def test_silent_vocals_are_excluded_and_counted(tmp_path):
    _corpus(tmp_path)
    result = score_clip(_job(tmp_path, "s3"))
    assert result["rows"] == [] and result["excluded"]["reason"] == "silent_vocals"
    v, a = _stems(1.2, 2, silent_vocals=True)
    with pytest.raises(ValueError, match="non-silent"):  # why the clip must be set aside
        mir_eval_sources(np.stack([v, a]), np.stack([v + a, v + a]))


def _save_models(models_dir: Path) -> None:
    torch.manual_seed(0)
    for target in ("vocals", "instrumental"):
        save_checkpoint(models_dir / target / "best.pt", make_payload(model=UNet(), target=target, config={}, step=0, epoch=0))


@pytest.mark.slow
def test_evaluate_writes_scores_tables_and_plots(tmp_path):
    catalog = load_catalog(_corpus(tmp_path))
    _save_models(catalog.models)
    summary = evaluate(catalog=catalog, config=EvaluateConfig(engine="serial"))
    assert summary.systems == ["mixture", "oracle-irm", "unet"]
    assert summary.clips == 3 and summary.scored == 2 and summary.excluded == {"silent_vocals": 1}
    scores = read_table(catalog.evaluation / "scores.parquet", SCORES_SCHEMA)
    assert len(scores) == 2 * 3 * 2
    assert set(scores["source"]) == {"vocals", "instrumental"}
    excluded = read_table(catalog.evaluation / "excluded.parquet", EXCLUDED_SCHEMA)
    assert excluded["song"].tolist() == ["s3"]
    # GNSDR weights clips by duration
    o = scores[(scores["system"] == "oracle-irm") & (scores["source"] == "vocals")]
    expected = float((o["nsdr"] * o["duration_s"]).sum() / o["duration_s"].sum())
    assert summary.gnsdr["oracle-irm"]["vocal"] == pytest.approx(expected)
    text = (catalog.evaluation / "tables.md").read_text()
    assert "| metric | source | stat | mixture | oracle-irm | unet |" in text
    assert "silent_vocals: 1" in text and "GNSDR" in text and "Median" in text
    for metric in ("nsdr", "sir", "sar"):
        assert (catalog.evaluation / f"boxplot_{metric}.png").read_bytes()[:4] == b"\x89PNG"


def test_a_vocal_model_alone_is_scored_with_the_complement_as_instrumental(tmp_path):
    catalog = load_catalog(_corpus(tmp_path, clips=(("s1", 2.1, False),)))
    torch.manual_seed(0)
    vocals_path = catalog.models / "vocals-solo" / "best.pt"
    save_checkpoint(vocals_path, make_payload(model=UNet(), target="vocals", config={}, step=0, epoch=0))
    summary = evaluate(catalog=catalog, models=["solo"], config=EvaluateConfig(engine="serial"))
    assert summary.systems == ["mixture", "oracle-irm", "solo"]
    scores = read_table(catalog.evaluation / "scores.parquet", SCORES_SCHEMA)
    assert sorted(scores.loc[scores["system"] == "solo", "source"]) == ["instrumental", "vocals"]
    mixture = sf.read(tmp_path / "corpus" / "eval" / "s1.mixture.wav", dtype="float32")[0]
    vocals, instrumental = model_estimates(mixture, str(vocals_path), "", device="cpu", batch_size=2)
    assert np.abs(vocals).max() > 0.01 and np.abs(instrumental).max() > 0.01
    np.testing.assert_allclose(vocals + instrumental, mixture, atol=1e-4)


@pytest.mark.slow
def test_evaluate_on_a_dask_cluster_equals_serial(tmp_path):
    catalog = load_catalog(_corpus(tmp_path))
    serial = evaluate(catalog=catalog, models=[], config=EvaluateConfig(engine="serial"))
    a = read_table(catalog.evaluation / "scores.parquet", SCORES_SCHEMA)
    dask = evaluate(catalog=catalog, models=[], config=EvaluateConfig(engine="dask", n_workers=1))
    b = read_table(catalog.evaluation / "scores.parquet", SCORES_SCHEMA)
    pd.testing.assert_frame_equal(a, b)
    assert serial.excluded == dask.excluded == {"silent_vocals": 1}


def test_cli_evaluate_prints_the_table(tmp_path):
    yaml_file = _corpus(tmp_path)
    result = CliRunner().invoke(evaluate_command, ["--serial", "--no-models"], obj=Context(yaml_file, 0))
    assert result.exit_code == 0, result.output
    assert "GNSDR" in result.output and "oracle-irm" in result.output and "1 excluded" in result.output


def test_bad_inputs_are_reported(tmp_path):
    catalog = load_catalog(_corpus(tmp_path))
    with pytest.raises(ConfigError, match=r"vocals-noskip.*best.pt.*not found"):
        evaluate(catalog=catalog, models=["baseline"], config=EvaluateConfig(engine="serial"))
    with pytest.raises(ConfigError, match="backend must be one of"):
        EvaluateConfig(backend="museval")
    csv = catalog.eval_set.path
    df = pd.read_csv(csv)
    df.loc[0, "vocals"] = "../../outside.wav"
    df.to_csv(csv, index=False)
    with pytest.raises(CatalogError, match="escapes the declared root"):
        evaluate(catalog=catalog, models=[], config=EvaluateConfig(engine="serial"))
