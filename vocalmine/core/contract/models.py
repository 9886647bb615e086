"""File names of a training run folder (models/<target>[-noskip]/), the contract between train, separate and evaluate."""

BEST_CHECKPOINT = "best.pt"  # lowest validation loss; what separate and evaluate load
LAST_CHECKPOINT = "last.pt"  # the resume point (saved every checkpoint_every steps and at each epoch end)
METRICS_FILE = "metrics.csv"  # one row per logged step (train loss) and per validation
