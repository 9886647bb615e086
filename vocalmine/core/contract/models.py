"""File and folder names of trained models, the contract between train, separate and evaluate.

A model set is a pair of run folders under the catalog's models folder, one per
target: "unet" is models/vocals + models/instrumental, "baseline" (the paper's
U-Net without skips) models/vocals-noskip + models/instrumental-noskip, any other
NAME models/vocals-NAME + models/instrumental-NAME (``vocalmine train --model-set NAME``,
for instance a model trained at another signal spec).
"""

MODEL_SETS = {"unet": "", "baseline": "-noskip"}  # named sets -> folder suffix; any other name is "-NAME"

BEST_CHECKPOINT = "best.pt"  # lowest validation loss; what separate and evaluate load
LAST_CHECKPOINT = "last.pt"  # the resume point (saved every checkpoint_every steps and at each epoch end)
METRICS_FILE = "metrics.csv"  # one row per logged step (train loss) and per validation


def run_folder(target: str, model_set: str = "unet") -> str:
    """Folder name of ``target``'s run in ``model_set`` (see the module docstring)."""
    return target + MODEL_SETS.get(model_set, f"-{model_set}")
