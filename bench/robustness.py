"""Faults and bad input: every scenario of issue 8, repeated, as one Markdown table.

    .venv/bin/python bench/robustness.py                 # full run (a few minutes on 2 cores)
    .venv/bin/python bench/robustness.py --quick         # one repetition of each fault
    .venv/bin/python bench/robustness.py --one-hour      # add the 1-hour audio file (slow)

Scenarios (each row of the table: fault or input, times tried, outcome):

- hostile catalogs (hypothesis): arbitrary Unicode, huge fields, embedded
  newlines and quotes, BOMs, wrong delimiters, empty files -> rows (valid or
  rejected with a reason, none lost) or one CatalogError;
- bad audio files through load_audio, the mining fingerprint, the per-pair
  features group and separate_files -> a reject with a reason, a clear
  AudioError, or a correct result;
- catalog paths escaping the audio root -> path_escapes_root;
- a tampered checkpoint (a pickle whose payload would create a marker file)
  -> refused, marker absent;
- disk full while writing shard k (a failing np.save) -> a clear error and no
  half-written index;
- kill -9 during `vocalmine build` and `vocalmine train` at random points ->
  the restart completes with an index and weights identical to an
  uninterrupted run, and no temp file is left;
- two `build`, `mine`, `export-dataset` or `train` runs on one output folder
  -> the second says in one line which process holds it and exits 1; the
  first ends unmixed, or, killed with -9, blocks nothing (issue 22);
- kill -9 during `mine` (while decoding), `separate` and `export-dataset`
  (after the first unit of work, while an output is written, at a random time)
  -> nothing partial under a final name, the rerun resumes and ends
  byte-identical (tables by content: their metadata holds the time of writing);
- a full disk during `export-dataset` (ENOSPC on track k), and during `build`
  and `export-dataset` on a real tmpfs too small for them (where a private mount
  namespace is allowed) -> one line naming the path; the rerun with room resumes.

The scenario functions live in vocalmine/testing/faults.py and stage_faults.py and are also used by
tests/robustness (a few repetitions);
this script does the heavier repetition. It needs no real data: every input
is generated (the demo corpus generator), so it never skips.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import random
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Callable

import pandas as pd
import soundfile as sf

from vocalmine.core.contract.models import BEST_CHECKPOINT, LAST_CHECKPOINT
from vocalmine.core.contract.shards import INDEX_FILE
from vocalmine.testing.faults import (
    BUILD_ARGS, ORPHAN_GRACE_S, TRAIN_ARGS, Row, after, audio_outcomes, clone_workspace, describe_error, enospc_env,
    index_consistency, index_digest, kill_and_resume, markdown_table, prepare_mined, run_cli, run_digests, temp_files,
    tone, when_exists, write_bad_audio, write_tampered_checkpoints, write_untrained_models, run_and_kill, cli_env,
)
from vocalmine.testing import stage_faults as stage


# -- the bench -------------------------------------------------------------------------------


def bench_catalog(examples: int) -> list[Row]:
    """Hypothesis fuzzing of ingest and normalisation (the property tests, with more examples)."""
    from vocalmine.testing import catalog_fuzz as module

    rows = []
    for name, label in module.FUZZ_TARGETS:
        fn = getattr(module, name)
        module.COUNTERS.setdefault(name, {"n": 0, "errors": 0, "rows": 0, "rejects": 0})
        try:
            module.run_with_examples(fn, examples)
            c = module.COUNTERS[name]
            outcome = (f"no crash, no row lost: {c['rows']} data rows -> {c['rows'] - c['rejects']} valid + {c['rejects']} rejected "
                       f"with a reason; {c['errors']} files refused with one CatalogError")
            if c["rows"] == 0 and c["errors"] == 0:
                outcome = "no crash; the property held on every example"
            rows.append(Row(label, c["n"], outcome, True))
        except Exception as exc:  # a falsified property
            rows.append(Row(label, module.COUNTERS[name]["n"], f"FAILED: {describe_error(exc)}", False))
    return rows


def bench_audio(work: Path, *, one_hour: bool, separate: bool) -> list[Row]:
    files = write_bad_audio(work / "audio", one_hour=one_hour)
    good = work / "audio" / "good.wav"
    models = write_untrained_models(work / "models") if separate else None
    rows = []
    for label, path in files.items():
        try:
            hour = "1-hour" in label  # separate_files on an hour of audio is a CPU benchmark, not a fault
            outcomes = audio_outcomes(path, good=good, models_dir=None if hour else models, work=work / "out",
                                      limit_s=300 if hour else 20)
            text = "; ".join(f"{k}: {v[:70]}" for k, v in outcomes.items())
            rows.append(Row(label, len(outcomes), text, not any(v.startswith("HANG") for v in outcomes.values())))
        except Exception as exc:
            rows.append(Row(label, 1, f"TRACEBACK {describe_error(exc)}", False))
    return rows


def bench_paths(work: Path) -> list[Row]:
    from vocalmine.core.catalog import ColumnMap, TrackCatalog
    from vocalmine.mining.config import MiningConfig
    from vocalmine.mining.ingest import ingest

    root, outside = work / "root", work / "outside"
    (root / "audio").mkdir(parents=True, exist_ok=True)
    outside.mkdir(exist_ok=True)
    sf.write(root / "audio" / "in.wav", tone(1.0), 8192)
    sf.write(outside / "secret.wav", tone(1.0), 8192)
    with contextlib.suppress(FileExistsError):
        (root / "audio" / "link_out.wav").symlink_to(outside / "secret.wav")
    with contextlib.suppress(FileExistsError):
        (root / "dirlink").symlink_to(outside, target_is_directory=True)
    escaping = ["../../etc/passwd", "/etc/passwd", str(outside / "secret.wav"), "audio/../../outside/secret.wav",
                "audio/link_out.wav", "dirlink/secret.wav", "../" * 40 + "etc/passwd", "~/../../etc/passwd"]
    rows = [[f"T{i}", "A", f"Song {i}", "1", p] for i, p in enumerate(escaping)]
    csv_path = root / "catalog.csv"
    pd.DataFrame(rows, columns=["track_id", "artist", "title", "duration", "audio_path"]).to_csv(csv_path, index=False)
    tracks = TrackCatalog(path=csv_path, audio_root=root,
                          columns=ColumnMap(track_id="track_id", artist="artist", title="title", duration="duration", audio_path="audio_path"))
    try:
        valid, rejects, n = ingest(tracks, config=MiningConfig())
    except Exception as exc:
        return [Row("catalog audio paths escaping the root", len(escaping), f"TRACEBACK {describe_error(exc)}", False)]
    reasons = sorted(set(rejects["reason"]))
    ok = len(valid) == 0 and reasons == ["path_escapes_root"] and n == len(escaping)
    extra = []
    with contextlib.suppress(FileExistsError):
        (root / "audio" / "loop.wav").symlink_to(root / "audio" / "loop.wav")
    for label, path in (("a symlink loop", "audio/loop.wav"), ("a 300-character file name", "audio/" + "x" * 300 + ".wav")):
        rows_ = [["T0", "A", "S", "1", path], ["T1", "A", "S1", "1", "audio/in.wav"]]
        pd.DataFrame(rows_, columns=["track_id", "artist", "title", "duration", "audio_path"]).to_csv(csv_path, index=False)
        try:
            v, r, k = ingest(tracks, config=MiningConfig())
            extra.append(Row(f"catalog audio path: {label}", 1, f"reject {', '.join(r['reason'])}",
                             len(v) == 1 and list(r["reason"]) == ["audio_not_found"]))
        except Exception as exc:
            extra.append(Row(f"catalog audio path: {label}", 1, f"TRACEBACK {describe_error(exc)[:80]}", False))
    return [Row("catalog audio paths escaping the root (`../../etc/passwd`, absolute, `..` inside, symlinked file/dir out)",
               len(escaping), f"{len(rejects)}/{n} rejected: {', '.join(reasons)}; {len(valid)} accepted", ok), *extra]


def bench_tampered(work: Path, yaml_file: Path | None) -> list[Row]:
    from vocalmine.core.errors import ConfigError
    from vocalmine.model.checkpoint import load_checkpoint

    marker = work / "PAYLOAD_RAN"
    rows = []
    for label, path in write_tampered_checkpoints(work / "tampered", marker).items():
        try:
            load_checkpoint(path)
            outcome, ok = "LOADED", False
        except ConfigError as exc:
            outcome, ok = f"refused, ConfigError: `{str(exc).replace(str(path.parent), '…')[:60]}...`; payload did not run", True
        ok = ok and not marker.exists()
        rows.append(Row(f"tampered checkpoint, load_checkpoint: {label}", 1, outcome + ("" if not marker.exists() else "; MARKER CREATED"), ok))
    if yaml_file is not None:
        from vocalmine.core.catalog import load_catalog

        cat = load_catalog(yaml_file)
        for target in ("vocals", "instrumental"):
            (cat.models / target).mkdir(parents=True, exist_ok=True)
            shutil.copy2(work / "tampered" / "zip.pt", cat.models / target / BEST_CHECKPOINT)
            shutil.copy2(work / "tampered" / "zip.pt", cat.models / target / LAST_CHECKPOINT)
        mixture = sorted((cat.eval_set.audio_root).glob("*.mixture.wav"))[0]
        commands = {"separate": ["separate", str(mixture)], "evaluate": ["evaluate", "--models", "unet", "--serial", "--no-oracle"],
                    "train --resume": ["train", "--target", "vocals", "--resume", "--steps", "1", "--workers", "0"]}
        for name, args in commands.items():
            res = run_cli(yaml_file, args, timeout=300)
            one_line = res.stderr.strip().splitlines()[-1] if res.stderr.strip() else ""
            ok = res.returncode == 1 and "Traceback" not in res.stderr and one_line.startswith("error:") and not marker.exists()
            one_line = one_line.replace(str(yaml_file.parent), "…")
            rows.append(Row(f"tampered checkpoint, `vocalmine {name}`", 1,
                            f"exit {res.returncode}, one line: `{one_line[:75]}...`; payload did not run", ok))
    return rows


def bench_disk_full(work: Path, source_yaml: Path, *, tries: int) -> list[Row]:
    from vocalmine.core.catalog import load_catalog

    rows = []
    # CLI, first build: shard k fails (k = 1.. tries).
    results = []
    for k in range(1, tries + 1):
        yaml_file = clone_workspace(source_yaml, work / f"full-{k}")
        res = run_cli(yaml_file, BUILD_ARGS, env=enospc_env(work / "fault", k), timeout=300)
        shards = load_catalog(yaml_file).shards
        lines = res.stderr.strip().splitlines()
        results.append((res.returncode, "Traceback" in res.stderr, lines[-1] if lines else "", temp_files(shards.parent),
                        index_consistency(shards), (shards / INDEX_FILE).exists()))
    clean = all(rc != 0 and not tb and not temps and not inconsistent for rc, tb, _, temps, inconsistent, _ in results)
    rc, tb, last, temps, inconsistent, has_index = results[0]
    rows.append(Row("disk full (ENOSPC) writing shard k of a first `vocalmine build`", tries,
                    f"exit {rc}, {'a TRACEBACK' if tb else 'one line'}: `{last[:130]}`; index.parquet {'present' if has_index else 'absent'}; "
                    f"temp files left: {len(temps)}", clean))
    # CLI, rebuild with other settings over a finished build: the old index must not survive beside new shards.
    yaml_file = clone_workspace(source_yaml, work / "full-rebuild")
    first = run_cli(yaml_file, BUILD_ARGS, timeout=300)
    res = run_cli(yaml_file, [*BUILD_ARGS, "--set", "min_vocal_ratio=0.5"], env=enospc_env(work / "fault", 1), timeout=300)
    shards = load_catalog(yaml_file).shards
    inconsistent = index_consistency(shards)
    rows.append(Row("disk full (ENOSPC) on shard 1 while rebuilding with other settings (min_vocal_ratio=0.5)", 1,
                    f"first build exit {first.returncode}; rebuild exit {res.returncode}, {'a TRACEBACK' if 'Traceback' in res.stderr else 'one line'}; "
                    f"index.parquet: {inconsistent or 'absent or consistent'}",
                    first.returncode == 0 and res.returncode != 0 and "Traceback" not in res.stderr and not inconsistent))
    return rows


def bench_kill_build(work: Path, source_yaml: Path, *, rounds: int, rng: random.Random) -> list[Row]:
    from vocalmine.core.catalog import load_catalog

    ref_yaml = clone_workspace(source_yaml, work / "build-ref")
    t0 = time.perf_counter()
    ref = run_cli(ref_yaml, BUILD_ARGS)
    duration = time.perf_counter() - t0
    if ref.returncode != 0:
        return [Row("kill -9 during `vocalmine build`", 0, f"uninterrupted build failed: {ref.stderr[-300:]}", False)]
    expected = index_digest(load_catalog(ref_yaml).shards)
    rows = []
    for kind in ("random time", "mid shard write", "after the first group"):
        landed = identical = tries = 0
        leftovers, orphans, notes = 0, 0, []
        for r in range(rounds):
            yaml_file = clone_workspace(source_yaml, work / f"build-{kind.replace(' ', '_')}-{r}")
            shards = load_catalog(yaml_file).shards
            if kind == "random time":
                triggers = [after(rng.uniform(0.15, 0.95) * duration), after(rng.uniform(0.15, 0.95) * duration)]
            elif kind == "mid shard write":
                triggers = [when_exists(shards, lambda p: p.name.startswith(".shard-") and ".tmp" in p.name)]
            else:
                triggers = [when_exists(shards / "parts", lambda p: p.name.startswith("group-"), delay=rng.uniform(0.0, 0.5))]
            runs, final = kill_and_resume(yaml_file, BUILD_ARGS, triggers=triggers)
            tries += len(runs)
            landed += sum(k.killed for k in runs)
            orphans += sum(k.orphans for k in runs)
            leftovers += len(temp_files(shards.parent))
            same = final.returncode == 0 and index_digest(shards) == expected
            identical += same
            if not same:
                notes.append(f"round {r}: exit {final.returncode} {final.stderr.strip().splitlines()[-1:] }")
        outcome = (f"{landed} kills landed; {identical}/{rounds} restarts completed with identical index, quality, rejects and shard bytes; "
                   f"temp files left: {leftovers}; Dask processes alive {ORPHAN_GRACE_S:.0f} s after a kill: {orphans}" + ("; " + "; ".join(notes) if notes else ""))
        rows.append(Row(f"kill -9 during `vocalmine build` ({kind})", tries, outcome, identical == rounds and leftovers == 0))
    return rows


def bench_kill_train(work: Path, source_yaml: Path, *, rounds: int, rng: random.Random) -> list[Row]:
    from vocalmine.core.catalog import load_catalog

    source_yaml = clone_workspace(source_yaml, work / "train-shards")
    built = run_cli(source_yaml, BUILD_ARGS)
    if built.returncode != 0:
        return [Row("kill -9 during `vocalmine train`", 0, f"build of the shards failed: {built.stderr[-300:]}", False)]
    ref_yaml = clone_workspace(source_yaml, work / "train-ref", with_shards=True)
    t0 = time.perf_counter()
    ref = run_cli(ref_yaml, TRAIN_ARGS)
    duration = time.perf_counter() - t0
    if ref.returncode != 0:
        return [Row("kill -9 during `vocalmine train`", 0, f"uninterrupted train failed: {ref.stderr[-300:]}", False)]
    expected = run_digests(load_catalog(ref_yaml).models / "vocals")
    rows = []
    for kind in ("random time", "mid checkpoint write"):
        landed = identical = tries = leftovers = 0
        notes = []
        for r in range(rounds):
            yaml_file = clone_workspace(source_yaml, work / f"train-{kind.replace(' ', '_')}-{r}", with_shards=True)
            run_dir = load_catalog(yaml_file).models / "vocals"
            if kind == "random time":
                triggers = [after(rng.uniform(0.2, 0.95) * duration) for _ in range(2)]
            else:
                triggers = [when_exists(run_dir, lambda p: p.name.startswith((".last.", ".best.")) and ".tmp" in p.name,
                                        delay=rng.uniform(0.0, 0.2)) for _ in range(2)]
            runs, final = kill_and_resume(yaml_file, TRAIN_ARGS, triggers=triggers, resume_args=["--resume"])
            tries += len(runs)
            landed += sum(k.killed for k in runs)
            leftovers += len(temp_files(run_dir.parent))
            got = run_digests(run_dir) if final.returncode == 0 else {}
            identical += got == expected
            if got != expected:
                notes.append(f"round {r}: exit {final.returncode}, {got} vs {expected}")
        outcome = (f"{landed} kills landed; {identical}/{rounds} resumed runs ended with last.pt and best.pt weights identical "
                   f"to the uninterrupted run ({expected['last.pt']}); temp files left: {leftovers}" + ("; " + "; ".join(notes) if notes else ""))
        rows.append(Row(f"kill -9 during `vocalmine train` ({kind}), restart with --resume", tries, outcome,
                        identical == rounds and leftovers == 0))
    return rows


# -- two runs on one folder; kill -9 during mine, separate and export-dataset; a full disk (issue 22) -----


def last_line(res) -> str:
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def bench_lock(work: Path, source_yaml: Path, built_yaml: Path, *, rounds: int) -> list[Row]:
    """A second run started while a first holds the folder (`build`, `export-dataset`: the first ends; `mine`,
    `train`: the first is killed with -9, then the next run must go ahead)."""
    from vocalmine.core.catalog import load_catalog
    from vocalmine.core.lock import lock_path

    slow = stage.fault_env(work / "fault", slow_read_s=0.4)
    # stage: (arguments, workspace maker, output folder, digest of the outputs)
    stages = {
        "build": (BUILD_ARGS, lambda d: clone_workspace(source_yaml, d), lambda c: c.shards,
                  lambda c: index_digest(c.shards)),
        "mine": (stage.MINE_ARGS, lambda d: stage.fresh_workspace(source_yaml, d), lambda c: c.pairs.parent,
                 lambda c: stage.tree_digest(c.pairs.parent)),
        "export-dataset": (stage.EXPORT_ARGS, lambda d: clone_workspace(built_yaml, d, with_shards=True),
                           lambda c: c.dataset, lambda c: stage.tree_digest(c.dataset)),
        "train": (TRAIN_ARGS, lambda d: clone_workspace(built_yaml, d, with_shards=True),
                  lambda c: c.models / "vocals", lambda c: run_digests(c.models / "vocals")),
    }
    rows = []
    for name, (args, make, folder_of, digest) in stages.items():
        label = f"two `vocalmine {name}` on one {'run' if name == 'train' else 'output'} folder at once"
        ref = make(work / f"ref-{name}")
        res = run_cli(ref, args)
        if res.returncode != 0:
            rows.append(Row(label, 0, f"uninterrupted run failed: {last_line(res)}", False))
            continue
        expected = digest(load_catalog(ref))
        kill = name in ("mine", "train")
        holder_args = [*args, "--steps", "100000"] if name == "train" else args  # the last --steps wins: runs on
        refused = identical = lock_left = 0
        notes, line = [], ""
        for r in range(rounds):
            ws = make(work / f"{name}-{r}")
            cat = load_catalog(ws)
            seen = stage.contend(ws, holder_args, folder=folder_of(cat), stage=name, kill_holder=kill, second_args=args,
                                 slow_env=cli_env() if name == "train" else slow)
            problem = stage.one_line_refusal(seen.second, seen.holder_pid)
            refused += not problem
            line = line or ("" if problem else last_line(seen.second))
            ended = seen.after_kill.returncode == 0 if kill else seen.holder_rc == 0
            same = ended and digest(cat) == expected
            identical += same
            lock_left += seen.lock_left
            gone = not lock_path(folder_of(cat), name).exists()
            if problem or not same or not gone:
                notes.append(f"round {r}: {problem} {'' if same else 'outputs differ'} {'' if gone else 'lock left'}")
        line = line.replace(str(work), "$WORK")
        line = line[:230] + ("..." if len(line) > 230 else "")
        if kill:
            end = (f"the holder killed with -9 ({lock_left}/{rounds} times its lock file was left behind): the "
                   f"next run went ahead and {identical}/{rounds} ended identical to an uninterrupted run")
        else:
            end = f"the holder ended with exit 0, outputs identical to an uninterrupted run, {identical}/{rounds} times"
        rows.append(Row(label, rounds, f"the second refused in one line {refused}/{rounds} times: `{line}`; {end}"
                        + ("; " + "; ".join(notes) if notes else ""), refused == identical == rounds))
    return rows


def kill_rows(stage_name: str, kinds: dict[str, tuple[dict, Callable]], *, make_ws: Callable[[str], tuple[Path, Path]],
              args: Callable[[Path], list[str]], expected: dict[str, str], resume_args: list[str] = (),
              resumed: Callable[[str], bool] = lambda out: True) -> list[Row]:
    """kill -9 once per round and kind: each kind is (fault env, trigger factory of the output folder);
    then a rerun, which must resume and end identical; every file left under its final name is checked."""
    rows = []
    for kind, (env, trigger_for) in kinds.items():
        landed = identical = partial = leftovers = resumes = tries = 0
        notes = []
        for r, (ws, out) in enumerate(make_ws(kind)):
            killed = run_and_kill(ws, args(out), trigger=trigger_for(out), env=env)
            tries += 1
            landed += killed.killed
            bad = stage.partial_outputs(stage.tree_digest(out), expected) if out.exists() else []
            partial += len(bad)
            final = run_cli(ws, [*args(out), *resume_args])
            same = final.returncode == 0 and stage.tree_digest(out) == expected
            identical += same
            resumes += final.returncode == 0 and killed.killed and resumed(final.stdout)
            leftovers += len(temp_files(out))
            if not same or bad:
                notes.append(f"round {r}: exit {final.returncode} {last_line(final)[:120]} partial {bad[:2]}")
        rounds = tries
        outcome = (f"{landed} kills landed; files under a final name after the kill that differ from the uninterrupted "
                   f"run's: {partial}; {resumes}/{rounds} reruns resumed (kept finished work) and {identical}/{rounds} "
                   f"ended byte-identical; temp files left: {leftovers}" + ("; " + "; ".join(notes) if notes else ""))
        rows.append(Row(f"kill -9 during `vocalmine {stage_name}` ({kind}), then the same command"
                        + (f" with {' '.join(resume_args)}" if resume_args else ""), tries, outcome,
                        identical == rounds and partial == 0 and leftovers == 0
                        and (landed == rounds or kind == "random time")))  # a late random time may find the run done
    return rows


def _after_one(folder: Path, name: Callable[[Path], bool], rng: random.Random) -> Callable:
    return when_exists(folder, name, delay=rng.uniform(0.0, 0.3))


def _timed(duration: float, rng: random.Random) -> Callable:
    return after(rng.uniform(0.2, 0.8) * duration)


def _nth_temp(folder: Path, n: int, name: Callable[[Path], bool] = lambda p: True) -> Callable:
    """A trigger: kill while the n-th temp file (matching ``name``) of the run is written (whole, not yet renamed)."""
    seen: set[str] = set()

    def hit(path: Path) -> bool:
        if ".tmp" in path.name and name(path):
            seen.add(str(path))
        return len(seen) >= n

    return when_exists(folder, hit)


def bench_kill_mine(work: Path, source_yaml: Path, *, rounds: int, rng: random.Random) -> list[Row]:
    from vocalmine.core.catalog import load_catalog

    slow = stage.fault_env(work / "fault-read", slow_read_s=0.2)
    ref = stage.fresh_workspace(source_yaml, work / "ref")
    t0 = time.perf_counter()
    res = run_cli(ref, stage.MINE_ARGS, env=slow)
    duration = time.perf_counter() - t0
    if res.returncode != 0:
        return [Row("kill -9 during `vocalmine mine`", 0, f"uninterrupted mine failed: {last_line(res)}", False)]
    expected = stage.tree_digest(load_catalog(ref).pairs.parent)
    part = lambda p: p.parent.name.endswith(".parts") and p.name.startswith("part-")  # noqa: E731
    kinds = {"after the first checkpoint part, while files decode": (slow, lambda out: _after_one(out, part, rng)),
             "mid checkpoint write: the second part": (
                 stage.fault_env(work / "fault-write", slow_read_s=0.2, slow_write_s=1.0),
                 lambda out: _nth_temp(out, 2, lambda p: p.name.startswith(".part-"))),
             "random time": (slow, lambda out: _timed(duration, rng))}

    def make_ws(kind):
        for r in range(rounds):
            ws = stage.fresh_workspace(source_yaml, work / f"{kind.split()[0]}-{r}")
            yield ws, load_catalog(ws).pairs.parent

    def decoded_less(stdout: str) -> bool:
        import re

        found = re.search(r"fingerprints\s+(\d+) decoded, (\d+) cached", stdout)
        return bool(found) and int(found.group(2)) > 0

    return kill_rows("mine", kinds, make_ws=make_ws, args=lambda out: stage.MINE_ARGS, expected=expected,
                     resumed=decoded_less)


def bench_kill_separate(work: Path, source_yaml: Path, *, rounds: int, rng: random.Random) -> list[Row]:
    songs = stage.write_songs(work / "songs")
    models = write_untrained_models(work / "models")
    slow = stage.fault_env(work / "fault-read", slow_read_s=0.5)
    t0 = time.perf_counter()
    res = run_cli(source_yaml, stage.separate_args(songs, models, work / "ref"), env=slow)
    duration = time.perf_counter() - t0
    if res.returncode != 0:
        return [Row("kill -9 during `vocalmine separate`", 0, f"uninterrupted run failed: {last_line(res)}", False)]
    expected = stage.tree_digest(work / "ref")
    output = lambda p: p.name.endswith(".instrumental.wav") and not p.name.startswith(".")  # noqa: E731
    kinds = {"after the first song": (slow, lambda out: _after_one(out, output, rng)),
             "mid output write: the second song's": (stage.fault_env(work / "fault-write", slow_write_s=1.0),
                                                      lambda out: _nth_temp(out, 3)),
             "random time": (slow, lambda out: _timed(duration, rng))}

    def make_ws(kind):
        for r in range(rounds):
            yield source_yaml, work / f"out-{kind.split()[0]}-{r}"

    return kill_rows("separate", kinds, make_ws=make_ws, args=lambda out: stage.separate_args(songs, models, out),
                     expected=expected, resume_args=["--resume"], resumed=lambda stdout: "(kept: --resume)" in stdout)


def bench_kill_export(work: Path, built_yaml: Path, *, rounds: int, rng: random.Random) -> list[Row]:
    from vocalmine.core.catalog import load_catalog

    slow = stage.fault_env(work / "fault-read", slow_read_s=0.3)
    ref = clone_workspace(built_yaml, work / "ref", with_shards=True)
    t0 = time.perf_counter()
    res = run_cli(ref, stage.EXPORT_ARGS, env=slow)
    duration = time.perf_counter() - t0
    if res.returncode != 0:
        return [Row("kill -9 during `vocalmine export-dataset`", 0, f"uninterrupted run failed: {last_line(res)}",
                    False)]
    expected = stage.tree_digest(load_catalog(ref).dataset)
    kinds = {"after the first track": (slow, lambda out: _after_one(out, lambda p: p.name == "track.json", rng)),
             "mid WAV write: the second track's": (stage.fault_env(work / "fault-write", slow_write_s=1.0),
                                                    lambda out: _nth_temp(out, 5)),  # 3 WAVs and a track.json first
             "random time": (slow, lambda out: _timed(duration, rng))}

    def make_ws(kind):
        for r in range(rounds):
            ws = clone_workspace(built_yaml, work / f"{kind.split()[0]}-{r}", with_shards=True)
            yield ws, load_catalog(ws).dataset

    return kill_rows("export-dataset", kinds, make_ws=make_ws, args=lambda out: stage.EXPORT_ARGS, expected=expected,
                     resumed=lambda stdout: " 0 resumed" not in stdout)


def bench_disk_full_export(work: Path, built_yaml: Path, *, tries: int) -> list[Row]:
    """ENOSPC on the vocals.wav of track k (k = 2 ..), then the same command with space freed."""
    from vocalmine.core.catalog import load_catalog

    ref = clone_workspace(built_yaml, work / "ref", with_shards=True)
    res = run_cli(ref, stage.EXPORT_ARGS)
    if res.returncode != 0:
        return [Row("disk full during `vocalmine export-dataset`", 0, f"uninterrupted run failed: {last_line(res)}",
                    False)]
    expected = stage.tree_digest(load_catalog(ref).dataset)
    tracks = sorted({name.rsplit("/", 1)[0] for name in expected if name.endswith("/track.json")})
    good = 0
    line, notes = "", []
    for k in range(1, min(tries, len(tracks) - 1) + 1):
        ws = clone_workspace(built_yaml, work / f"full-{k}", with_shards=True)
        dataset = load_catalog(ws).dataset
        full = stage.fault_env(work / "fault", enospc_path=f"{tracks[k]}/vocals.wav")
        failed = run_cli(ws, stage.EXPORT_ARGS, env=full)
        lines = [x for x in failed.stderr.splitlines() if x.strip()]
        one = (failed.returncode == 1 and len(lines) == 1 and "Traceback" not in failed.stderr
               and "disk full" in lines[0] and str(dataset / tracks[k]) in lines[0])
        clean = not temp_files(dataset) and not (dataset / "manifest.parquet").exists()
        final = run_cli(ws, stage.EXPORT_ARGS)
        same = final.returncode == 0 and stage.tree_digest(dataset) == expected and " 0 resumed" not in final.stdout
        good += one and clean and same
        line = line or (lines[0].replace(str(work), "$WORK") if lines else "")
        if not (one and clean and same):
            notes.append(f"track {k}: one line {one}, clean {clean}, rerun identical {same}")
    n = min(tries, len(tracks) - 1)
    return [Row("disk full (ENOSPC) writing track k of `vocalmine export-dataset`, then the same command", n,
                f"{good}/{n}: exit 1, one line: `{line[:200]}`; no temp file, no manifest; the rerun kept the finished "
                "tracks and ended byte-identical" + ("; " + "; ".join(notes) if notes else ""), good == n)]


REAL_DISK_SCRIPT = """\
mount -t tmpfs -o size={size} tmpfs {folder} || exit 97
{cli} {args} >{log}.1.out 2>{log}.1.err; echo $? >{log}.1.rc
mount -o remount,size=512m {folder}
{cli} {args} >{log}.2.out 2>{log}.2.err; echo $? >{log}.2.rc
cp -a {folder}/. {copy}/
"""


def real_full_disk(ws: Path, args: list[str], folder: Path, size: str, log: Path,
                   copy: Path) -> tuple[str, str, str, str] | None:
    """Run ``args`` with ``folder`` on a tmpfs of ``size`` (a private mount namespace), then with the tmpfs enlarged;
    (first exit, first stderr, second exit, second stdout), the folder copied to ``copy``; None without unshare."""
    import shlex
    import subprocess

    if shutil.which("unshare") is None:
        return None
    folder.mkdir(parents=True, exist_ok=True)
    copy.mkdir(parents=True, exist_ok=True)
    cli = " ".join(map(shlex.quote, [sys.executable, "-m", "vocalmine", "--catalog", str(ws)]))
    script = REAL_DISK_SCRIPT.format(size=size, folder=shlex.quote(str(folder)), cli=cli, args=shlex.join(args),
                                     log=shlex.quote(str(log)), copy=shlex.quote(str(copy)))
    res = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", script], capture_output=True,
                         text=True, env=cli_env(), cwd=ws.parent, timeout=900)
    if res.returncode == 97 or not Path(f"{log}.2.rc").exists():
        return None
    read = lambda suffix: Path(f"{log}.{suffix}").read_text()  # noqa: E731
    return read("1.rc").strip(), read("1.err"), read("2.rc").strip(), read("2.out")


def _room_for_one_and_a_half(folder: Path, first_two: tuple[str, str] | None) -> str:
    """A tmpfs size that holds the first output unit (a shard, a track folder) and half the second."""
    if first_two is None:  # the first two track folders in pair order (the order tasks run on one worker)
        tracks = sorted({p.parent for p in folder.rglob("track.json")}, key=lambda p: p.name.rsplit("[", 1)[-1])
        sizes = [sum(f.stat().st_size for f in t.iterdir()) for t in tracks[:2]]
    else:
        sizes = [(folder / name).stat().st_size for name in first_two]
    return f"{(sizes[0] + sizes[1] // 2 + 64 * 1024) // 1024}k"


def bench_real_disk_full(work: Path, source_yaml: Path, built_yaml: Path) -> list[Row]:
    """`build` and `export-dataset` into a real tmpfs too small for them, then enlarged (where one can be mounted)."""
    from vocalmine.core.catalog import load_catalog

    rows = []
    for name, base, args, folder_of, digest, first_two in (
            ("build", source_yaml, BUILD_ARGS, lambda c: c.shards, index_digest,
             ("shard-00000.npy", "shard-00001.npy")),
            ("export-dataset", built_yaml, stage.EXPORT_ARGS, lambda c: c.dataset, stage.tree_digest, None)):
        ref = clone_workspace(base, work / f"ref-{name}", with_shards=name != "build")
        if run_cli(ref, args).returncode != 0:
            rows.append(Row(f"a real full disk during `vocalmine {name}`", 0, "uninterrupted run failed", False))
            continue
        size = _room_for_one_and_a_half(folder_of(load_catalog(ref)), first_two)
        ws = clone_workspace(base, work / f"ws-{name}", with_shards=name != "build")
        folder = folder_of(load_catalog(ws))
        if name == "build":
            folder.mkdir(parents=True, exist_ok=True)
        got = real_full_disk(ws, args, folder, size, work / f"log-{name}", work / f"copy-{name}")
        label = f"a real full disk (a {size} tmpfs) during `vocalmine {name}`, then the same command with room"
        if got is None:
            rows.append(Row(label, 0, "skipped: no private mount namespace or tmpfs here (needs CAP_SYS_ADMIN)", True))
            continue
        rc1, err1, rc2, out2 = got
        lines = [x for x in err1.splitlines() if x.strip()]
        one = rc1 == "1" and len(lines) == 1 and "Traceback" not in err1 and "disk full" in lines[0]
        same = rc2 == "0" and digest(work / f"copy-{name}") == digest(folder_of(load_catalog(ref)))
        resumed = (" resumed" in out2 and " 0 resumed" not in out2) if name != "build" else " 0 resumed)" not in out2
        line = (lines[-1] if lines else "").replace(str(work), "$WORK")
        rows.append(Row(label, 1, f"exit {rc1}, one line: `{line[:200]}`; the rerun exit {rc2}, "
                                  f"{'resumed' if resumed else 'did NOT resume'}, "
                                  f"{'identical to' if same else 'DIFFERENT from'} an uninterrupted run",
                        one and same and resumed))
    return rows


def built_workspace(directory: Path, source_yaml: Path) -> Path:
    """A workspace over the mined corpus with its shards built (for export-dataset and train)."""
    yaml_file = clone_workspace(source_yaml, directory)
    res = run_cli(yaml_file, BUILD_ARGS)
    if res.returncode != 0:
        raise RuntimeError(f"build of the shared shards failed: {last_line(res)}")
    return yaml_file


STAGE_SECTIONS = ["lock", "kill-mine", "kill-separate", "kill-export", "disk-export", "disk-real"]
SECTIONS = ["catalog", "audio", "paths", "tampered", "disk", "build", "train", *STAGE_SECTIONS]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one repetition of each fault")
    parser.add_argument("--one-hour", action="store_true", help="include the 1-hour audio file")
    parser.add_argument("--kills", type=int, default=3, help="kill rounds per kind of kill point")
    parser.add_argument("--examples", type=int, default=200, help="hypothesis examples per catalog property")
    parser.add_argument("--seed", type=int, default=0, help="seed of the kill times")
    parser.add_argument("--only", default="", help="comma-separated subset: " + ",".join(SECTIONS))
    parser.add_argument("--keep", type=Path, default=None, help="work folder to keep (default: a temp folder, deleted)")
    args = parser.parse_args(argv)
    rounds = 1 if args.quick else args.kills
    examples = 50 if args.quick else args.examples
    only = set(filter(None, args.only.split(","))) or set(SECTIONS)
    if "catalog" in only and importlib.util.find_spec("hypothesis") is None:
        # said before anything runs, not as a crashed row after minutes of other sections
        print("bench/robustness.py: the catalog section needs the dev extras (hypothesis): run `make bench` "
              "(or `.venv/bin/pip install -e '.[dev]'`), or leave it out with --only "
              + ",".join(name for name in SECTIONS if name != "catalog"), file=sys.stderr)
        return 2
    rng = random.Random(args.seed)
    rows: list[Row] = []
    started = time.perf_counter()
    with contextlib.ExitStack() as stack:
        work = args.keep or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="vocalmine-robustness-")))
        work.mkdir(parents=True, exist_ok=True)

        def section(name: str, fn: Callable[[], list[Row]]) -> None:
            if name not in only:
                return
            t = time.perf_counter()
            try:
                new = fn()
            except Exception as exc:
                traceback.print_exc()
                new = [Row(name, 0, f"bench section crashed: {describe_error(exc)}", False)]
            rows.extend(new)
            print(f"[{name}] {time.perf_counter() - t:.0f} s", file=sys.stderr, flush=True)

        needs_corpus = only & {"tampered", "disk", "build", "train", *STAGE_SECTIONS}
        source = prepare_mined(work / "mined", seed=args.seed) if needs_corpus else None
        needs_shards = only & {"lock", "kill-export", "disk-export", "disk-real"}
        built = built_workspace(work / "built", source) if needs_shards else None
        section("catalog", lambda: bench_catalog(examples))
        section("paths", lambda: bench_paths(work / "paths"))
        section("tampered", lambda: bench_tampered(work / "tampered", clone_workspace(source, work / "tampered-ws", with_shards=False)))
        section("audio", lambda: bench_audio(work / "audio", one_hour=args.one_hour, separate=True))
        section("disk", lambda: bench_disk_full(work / "disk", source, tries=1 if args.quick else 3))
        section("build", lambda: bench_kill_build(work / "kill-build", source, rounds=rounds, rng=rng))
        section("train", lambda: bench_kill_train(work / "kill-train", source, rounds=rounds, rng=rng))
        section("lock", lambda: bench_lock(work / "lock", source, built, rounds=rounds))
        section("kill-mine", lambda: bench_kill_mine(work / "kill-mine", source, rounds=rounds, rng=rng))
        section("kill-separate", lambda: bench_kill_separate(work / "kill-separate", source, rounds=rounds, rng=rng))
        section("kill-export", lambda: bench_kill_export(work / "kill-export", built, rounds=rounds, rng=rng))
        section("disk-export", lambda: bench_disk_full_export(work / "disk-export", built,
                                                             tries=1 if args.quick else 3))
        section("disk-real", lambda: bench_real_disk_full(work / "disk-real", source, built))
        print(markdown_table(rows, work=work))
        print("\n(audio rows: tried = entry points: load_audio, mining fingerprint, the per-pair features group of `build` "
              "with the file as instrumental and as original, separate_files)")
    print(f"\n{sum(r.ok for r in rows)}/{len(rows)} rows as required; {time.perf_counter() - started:.0f} s "
          f"(`.venv/bin/python bench/robustness.py{''.join(' ' + a for a in (argv if argv is not None else sys.argv[1:]))}`)")
    return 0 if all(r.ok for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
