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
  uninterrupted run, and no temp file is left.

The scenario functions live in vocalmine/testing/faults.py and are also used by tests/robustness (a few repetitions);
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
    tone, when_exists, write_bad_audio, write_tampered_checkpoints, write_untrained_models,
)


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one repetition of each fault")
    parser.add_argument("--one-hour", action="store_true", help="include the 1-hour audio file")
    parser.add_argument("--kills", type=int, default=3, help="kill rounds per kind of kill point")
    parser.add_argument("--examples", type=int, default=200, help="hypothesis examples per catalog property")
    parser.add_argument("--seed", type=int, default=0, help="seed of the kill times")
    parser.add_argument("--only", default="", help="comma-separated subset: catalog,audio,paths,tampered,disk,build,train")
    parser.add_argument("--keep", type=Path, default=None, help="work folder to keep (default: a temp folder, deleted)")
    args = parser.parse_args(argv)
    rounds = 1 if args.quick else args.kills
    examples = 50 if args.quick else args.examples
    only = set(filter(None, args.only.split(","))) or {"catalog", "audio", "paths", "tampered", "disk", "build", "train"}
    if "catalog" in only and importlib.util.find_spec("hypothesis") is None:
        # said before anything runs, not as a crashed row after minutes of other sections
        print("bench/robustness.py: the catalog section needs the dev extras (hypothesis): run `make bench` "
              "(or `.venv/bin/pip install -e '.[dev]'`), or leave it out with --only audio,paths,tampered,disk,build,train",
              file=sys.stderr)
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

        needs_corpus = only & {"tampered", "disk", "build", "train"}
        source = prepare_mined(work / "mined", seed=args.seed) if needs_corpus else None
        section("catalog", lambda: bench_catalog(examples))
        section("paths", lambda: bench_paths(work / "paths"))
        section("tampered", lambda: bench_tampered(work / "tampered", clone_workspace(source, work / "tampered-ws", with_shards=False)))
        section("audio", lambda: bench_audio(work / "audio", one_hour=args.one_hour, separate=True))
        section("disk", lambda: bench_disk_full(work / "disk", source, tries=1 if args.quick else 3))
        section("build", lambda: bench_kill_build(work / "kill-build", source, rounds=rounds, rng=rng))
        section("train", lambda: bench_kill_train(work / "kill-train", source, rounds=rounds, rng=rng))
        print(markdown_table(rows, work=work))
        print("\n(audio rows: tried = entry points: load_audio, mining fingerprint, the per-pair features group of `build` "
              "with the file as instrumental and as original, separate_files)")
    print(f"\n{sum(r.ok for r in rows)}/{len(rows)} rows as required; {time.perf_counter() - started:.0f} s "
          f"(`.venv/bin/python bench/robustness.py{''.join(' ' + a for a in (argv if argv is not None else sys.argv[1:]))}`)")
    return 0 if all(r.ok for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
