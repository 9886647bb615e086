"""Two CPU processes with the gloo backend, set up as torchrun would: one DDP step, same weights."""

from __future__ import annotations

import pytest

import json
import os
import socket
import subprocess
import sys

import torch

from vocalmine.model.checkpoint import build_model, load_checkpoint
from vocalmine.model.train import weights_digest
from vocalmine.model.unet import UNet

# What each "torchrun" process runs: the trainer's own entry point, nothing test-specific.
SCRIPT = """
import json, sys
from vocalmine.model.config import TrainConfig
from vocalmine.model.train import train_run
config = TrainConfig(batch_size=2, steps=1, lr=1e-3, workers=0, threads=1, log_every=1, patience=100)
s = train_run(shards=sys.argv[1], run_dir=sys.argv[2], target="vocals", config=config, device="cpu")
print("SUMMARY " + json.dumps({"digest": s.weights_digest, "world_size": s.world_size, "steps": s.steps,
                               "val": s.best_val_loss}))
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_two_gloo_ranks_take_one_step_and_agree(shards, tmp_path):
    run = tmp_path / "vocals"
    port = free_port()
    procs = []
    for rank in (0, 1):
        env = {**os.environ, "RANK": str(rank), "WORLD_SIZE": "2", "LOCAL_RANK": str(rank),
               "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port), "OMP_NUM_THREADS": "1"}
        procs.append(subprocess.Popen([sys.executable, "-c", SCRIPT, str(shards.folder), str(run)], env=env,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    summaries = []
    for proc in procs:
        out, err = proc.communicate(timeout=180)
        assert proc.returncode == 0, err[-3000:]
        summaries.append(json.loads(out.split("SUMMARY ", 1)[1]))
    assert [s["world_size"] for s in summaries] == [2, 2] and [s["steps"] for s in summaries] == [1, 1]
    # The ranks saw different patches and dropout; only averaged gradients keep their weights equal.
    assert summaries[0]["digest"] == summaries[1]["digest"]
    assert summaries[0]["val"] == summaries[1]["val"]  # validation is reduced over both ranks
    saved = load_checkpoint(run / "last.pt", expected_target="vocals")
    assert saved["step"] == 1 and len(saved["extra"]["rng"]["torch"]) == 2 and saved["extra"]["world_size"] == 2
    assert weights_digest(build_model(saved)) == summaries[0]["digest"]
    torch.manual_seed(0)  # the trainer's initial weights for seed 0: the step changed them
    assert weights_digest(UNet()) != summaries[0]["digest"]
    assert sorted(p.name for p in run.iterdir()) == ["best.pt", "last.pt", "metrics.csv", "tensorboard"]
