"""Signal constants of the paper's set-up (Jansson et al. 2017, section 3).

Everything that depends on the STFT or the patch size derives from here.
"""

SAMPLE_RATE = 8192  # Hz; all audio is downmixed and resampled to this rate
N_FFT = 1024  # samples; Hann window length (125 ms at 8192 Hz)
HOP_LENGTH = 768  # samples; hop between STFT frames (93.75 ms)
N_BINS = 512  # frequency bins kept: N_FFT // 2 + 1 = 513, minus the Nyquist bin
PATCH_FRAMES = 128  # STFT frames per training patch (about 11 s of audio)

SHARD_DTYPE = "float16"  # dtype of stored patches; magnitudes in [0, 1] keep ~3 significant digits
