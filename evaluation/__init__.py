"""The `evaluate` stage: reads the multitrack evaluation set and the trained model sets, separates every clip and
scores the mixture, the oracle ratio mask and each model with BSS Eval (SDR, SIR, SAR, NSDR, high-band SNR);
writes scores, tables and plots. Entry point: :func:`vocalmine.evaluation.evaluate.evaluate`."""
