"""`evaluate` at the files' own rate and channels, and its one-line errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
import torch
from click.testing import CliRunner

from vocalmine.cli import cli
from vocalmine.core.catalog import catalog_for_corpus, load_catalog
from vocalmine.core.errors import CatalogError
from vocalmine.evaluation.evaluate import EvaluateConfig, evaluate
from vocalmine.model.checkpoint import make_payload, save_checkpoint
from vocalmine.model.unet import UNet

SR = 44100


def _stereo_song(seconds: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(vocals, accompaniment) (n, 2) at 44.1 kHz with content above 5 kHz in both."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    phase = 2 * np.pi * np.cumsum(220 * (1 + 0.01 * np.sin(2 * np.pi * 5 * t))) / SR
    v = 0.3 * sum(np.sin(k * phase) / k for k in range(1, 30))  # harmonics up to 6.6 kHz
    a = 0.1 * sum(np.sin(2 * np.pi * f * t) for f in (110.0, 164.8)) + 0.02 * rng.standard_normal(t.size)
    vocals = np.stack([v, v], axis=1)
    accompaniment = np.stack([a, 0.8 * a + 0.01 * rng.standard_normal(t.size)], axis=1)
    return vocals.astype(np.float32), accompaniment.astype(np.float32)


def _catalog(root: Path, songs=(("s1", 1.6), ("s2", 1.3)), models: bool = True) -> Path:
    eval_dir = root / "corpus" / "eval"
    eval_dir.mkdir(parents=True)
    rows = []
    for k, (song, seconds) in enumerate(songs):
        v, a = _stereo_song(seconds, k)
        for name, y in (("mixture", v + a), ("vocals", v), ("accompaniment", a)):
            sf.write(eval_dir / f"{song}.{name}.wav", y, SR, subtype="FLOAT")
        rows.append({"song": song, "mixture": f"{song}.mixture.wav", "vocals": f"{song}.vocals.wav",
                     "accompaniment": f"{song}.accompaniment.wav"})
    pd.DataFrame(rows).to_csv(eval_dir / "eval.csv", index=False)
    yaml_file = root / "data_catalog.yaml"
    yaml_file.write_text(catalog_for_corpus(yaml_file, root / "corpus", root / "work"), encoding="utf-8")
    if models:
        torch.manual_seed(0)
        for target in ("vocals", "instrumental"):
            save_checkpoint(root / "work" / "models" / target / "best.pt",
                            make_payload(model=UNet(), target=target, config={}, step=0, epoch=0))
    return yaml_file


@pytest.mark.slow
def test_native_rate_scores_full_band_beside_the_8192_output_and_the_oracle(tmp_path):
    catalog = load_catalog(_catalog(tmp_path))
    summary = evaluate(catalog=catalog, config=EvaluateConfig(engine="serial", rate="native"))
    assert summary.systems == ["mixture", "oracle-irm", "unet", "unet@model"]
    scores = pd.read_parquet(catalog.evaluation / "scores.parquet")
    assert set(scores["sample_rate"]) == {SR} and set(scores["channels"]) == {2}
    high = scores.groupby("system")["snr_high"].mean()
    assert abs(high["unet@model"]) < 0.05  # nothing above 4 kHz: 0 dB by construction
    assert high["oracle-irm"] > 10 and np.isfinite(high["unet"])
    assert "SNR>5k" in summary.table and "SNR>5k" in (catalog.evaluation / "tables.md").read_text()


def test_no_trained_models_says_so_and_still_writes_the_reference_rows(tmp_path):
    yaml_file = _catalog(tmp_path, songs=(("s1", 1.2),), models=False)
    result = CliRunner().invoke(cli, ["--catalog", str(yaml_file), "evaluate", "--serial"])
    assert result.exit_code == 0, result.output
    assert "no trained models under" in result.output
    scores = pd.read_parquet(load_catalog(yaml_file).evaluation / "scores.parquet")
    assert set(scores["system"]) == {"mixture", "oracle-irm"}


def test_a_wrong_audio_root_names_the_resolved_missing_path(tmp_path):
    yaml_file = _catalog(tmp_path, songs=(("s1", 1.2),), models=False)
    text = yaml_file.read_text()
    yaml_file.write_text(text.replace("audio_root: corpus/eval", "audio_root: corpus/evals"), encoding="utf-8")
    missing = (tmp_path / "corpus" / "evals").resolve()
    with pytest.raises(CatalogError, match=f"audio_root: {missing} does not exist"):
        evaluate(catalog=load_catalog(yaml_file), config=EvaluateConfig(engine="serial"))
    result = CliRunner().invoke(cli, ["--catalog", str(yaml_file), "evaluate", "--serial"])
    assert result.exit_code == 1 and result.output.strip().splitlines()[-1].startswith("error: ")
    assert str(missing) in result.output


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_an_unavailable_device_is_one_line(tmp_path):
    yaml_file = _catalog(tmp_path, songs=(("s1", 1.2),))
    result = CliRunner().invoke(cli, ["--catalog", str(yaml_file), "evaluate", "--serial", "--device", "cuda"])
    assert result.exit_code == 1, result.output
    assert result.output.strip().splitlines()[-1].startswith("error: device='cuda': CUDA is not available")
    assert "Traceback" not in result.output
