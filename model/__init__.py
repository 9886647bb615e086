"""The `train`, `export` and `separate` stages: the paper's U-Net trained from the shards (random crops, exact
remixes, batch STFTs on the device), self-describing checkpoints and model files, and :class:`Separator`, which
runs a model at its signal spec on any audio. Entry points: :func:`vocalmine.model.train.train`,
:func:`vocalmine.model.loading.export_models`, :class:`vocalmine.model.separator.Separator`."""
