"""`vocalmine export` and `vocalmine separate --model` from any folder, and their one-line errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
from click.testing import CliRunner

from vocalmine.cli import cli
from vocalmine.model.checkpoint import make_payload, save_checkpoint
from vocalmine.model.unet import UNet


@pytest.fixture(scope="module")
def model_file(tmp_path_factory) -> Path:
    """An exported model file of two untrained U-Nets (the speed and shapes of trained ones)."""
    root = tmp_path_factory.mktemp("export")
    torch.manual_seed(0)
    for target in ("vocals", "instrumental"):
        save_checkpoint(root / "models" / target / "best.pt", make_payload(model=UNet(), target=target, config={}, step=3, epoch=0))
    out = root / "model.pt"
    result = CliRunner().invoke(cli, ["export", "--from", str(root / "models"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "wrote" in result.output and out.stat().st_size < 45e6
    return out


def _song(path: Path, rate: int = 44100, channels: int = 2, seconds: float = 1.7) -> Path:
    t = np.arange(int(rate * seconds)) / rate
    y = 0.2 * np.sin(2 * np.pi * 440 * t)[:, None] * np.linspace(0.5, 1.0, channels)[None] + 0.02 * np.sin(2 * np.pi * 7000 * t)[:, None]
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, y, rate, format=path.suffix[1:].upper())
    return path


def _run(args: list[str]):
    return CliRunner().invoke(cli, args)


def _one_line_error(result, *fragments: str) -> None:
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert lines[-1].startswith("error: ") and "Traceback" not in result.output, result.output
    for fragment in fragments:
        assert fragment in lines[-1], lines[-1]


@pytest.mark.slow
def test_separate_a_stereo_mp3_in_an_empty_folder_without_a_catalog(model_file, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    song = _song(tmp_path / "song.mp3")
    result = _run(["separate", "--model", str(model_file), str(song)])
    assert result.exit_code == 0, result.output
    info_in = sf.info(song)
    for source in ("vocals", "instrumental"):
        info = sf.info(tmp_path / "separated" / f"song.{source}.wav")
        assert (info.samplerate, info.channels, info.frames, info.subtype) == (44100, 2, info_in.frames, "PCM_16")
    result = _run(["separate", "--model", str(model_file), "--sample-rate", "model", "--format", "float",
                   "--out", "low", "--overwrite", str(song)])
    assert result.exit_code == 0, result.output
    info = sf.info(tmp_path / "low" / "song.vocals.wav")
    assert (info.samplerate, info.channels, info.subtype) == (8192, 1, "FLOAT")


@pytest.mark.slow
def test_same_names_from_two_folders_and_a_rerun(model_file, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    a, b = _song(tmp_path / "a" / "song.wav", channels=1), _song(tmp_path / "b" / "song.wav", rate=22050)
    result = _run(["separate", "--model", str(model_file), str(a), str(b)])
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in (tmp_path / "separated").iterdir())
    assert names == ["a-song.instrumental.wav", "a-song.vocals.wav", "b-song.instrumental.wav", "b-song.vocals.wav"]
    _one_line_error(_run(["separate", "--model", str(model_file), str(a), str(b)]), "output exists", "a-song.vocals.wav", "--overwrite")
    assert _run(["separate", "--model", str(model_file), "--overwrite", str(a), str(b)]).exit_code == 0


def test_undecodable_file_says_cannot_decode(model_file, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    bad = tmp_path / "broken.mp3"
    bad.write_bytes(np.random.default_rng(0).bytes(4000))
    result = _run(["separate", "--model", str(model_file), str(bad)])
    _one_line_error(result, "cannot decode", "broken.mp3")
    assert "does not exist" not in result.output


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_unavailable_device_is_one_line(model_file, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    song = _song(tmp_path / "song.wav")
    _one_line_error(_run(["separate", "--model", str(model_file), "--device", "cuda", str(song)]), "CUDA is not available")
    _one_line_error(_run(["separate", "--model", str(model_file), "--device", "cuda:1", str(song)]), "cuda:1")


def test_model_errors_are_one_line(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    song = _song(tmp_path / "song.wav")
    _one_line_error(_run(["separate", str(song)]), "no data catalog here", "--model")
    other = tmp_path / "other.pt"
    torch.save({"state_dict": {"w": torch.zeros(2)}}, other)
    _one_line_error(_run(["separate", "--model", str(other), str(song)]), "not a vocalmine model file")
    (tmp_path / "junk.pt").write_bytes(b"\x00junk" * 50)
    _one_line_error(_run(["separate", "--model", str(tmp_path / "junk.pt"), str(song)]), "not a vocalmine model file")
    (tmp_path / "models").mkdir()
    _one_line_error(_run(["separate", "--model", str(tmp_path / "models"), str(song)]), "no trained model set 'unet'")
    _one_line_error(_run(["export", "--from", str(tmp_path / "models")]), "no trained model set")


@pytest.mark.parametrize("command", ["separate", "export", "evaluate"])
def test_every_option_shows_its_default(command):
    options = [p for p in cli.commands[command].params if p.param_type_name == "option" and not p.is_flag
               and p.name not in ("help",)]
    for option in options:
        assert option.show_default or "[default:" in (option.help or ""), f"{command} {option.opts}"


def test_cli_mask_options_are_the_librarys_one_declaration():
    import dataclasses

    from vocalmine.evaluation.evaluate import EvaluateConfig
    from vocalmine.model.mask_options import MaskOptions

    library = MaskOptions()
    for command in ("separate", "evaluate"):
        params = {p.name: p for p in cli.commands[command].params}
        for f in dataclasses.fields(MaskOptions):  # every field is an option, with the library's default
            option = params[f"mask_{f.name}"]
            assert option.default == getattr(library, f.name) and f.metadata["cli"] in option.opts, (command, f.name)
    assert EvaluateConfig().masks == library
