"""The U-Net of Jansson et al. (ISMIR 2017), and its no-skip baseline.

Encoder: six Conv2d(5x5, stride 2, padding 2), channels 16..512, batch norm,
LeakyReLU(0.2). Decoder: six ConvTranspose2d(5x5, stride 2), batch norm, ReLU,
50% dropout on the first three; each decoder layer but the first takes the
concatenation of the previous decoder output and the encoder output of the
same level. The last layer has one channel and a sigmoid: the soft mask.
"""

from __future__ import annotations

import torch
from torch import nn

ENCODER_CHANNELS = (16, 32, 64, 128, 256, 512)
KERNEL = 5
STRIDE = 2
LEAKY_SLOPE = 0.2
DROPOUT = 0.5
N_DROPOUT_LAYERS = 3


class UNet(nn.Module):
    """Soft-mask estimator.

    Args:
        skips: concatenate the encoder output of the same level into each
            decoder layer (the paper's U-Net). False gives the paper's plain
            encoder-decoder baseline with otherwise identical layers.
        in_channels: input channels (1: the mixture magnitude).

    Input: (batch, 1, 512, 128) normalised magnitudes (bins x frames).
    Output: (batch, 1, 512, 128) mask in (0, 1). Both spatial sizes must be
    divisible by 2**6 = 64.
    """

    def __init__(self, *, skips: bool = True, in_channels: int = 1):
        super().__init__()
        self.skips = skips
        self.in_channels = in_channels
        self.encoder = nn.ModuleList()
        previous = in_channels
        for channels in ENCODER_CHANNELS:
            self.encoder.append(
                nn.Sequential(
                    nn.Conv2d(previous, channels, KERNEL, stride=STRIDE, padding=KERNEL // 2),
                    nn.BatchNorm2d(channels),
                    nn.LeakyReLU(LEAKY_SLOPE),
                )
            )
            previous = channels
        decoder_out = list(reversed(ENCODER_CHANNELS[:-1])) + [in_channels]
        self.decoder = nn.ModuleList()
        for level, channels in enumerate(decoder_out):
            in_ch = previous if (level == 0 or not skips) else previous * 2
            last = level == len(decoder_out) - 1
            layers: list[nn.Module] = [
                nn.ConvTranspose2d(in_ch, channels, KERNEL, stride=STRIDE, padding=KERNEL // 2, output_padding=1)
            ]
            if not last:
                layers += [nn.BatchNorm2d(channels), nn.ReLU()]
                if level < N_DROPOUT_LAYERS:
                    layers.append(nn.Dropout(DROPOUT))
            self.decoder.append(nn.Sequential(*layers))
            previous = channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Mask for ``x`` of shape (batch, in_channels, bins, frames)."""
        skips = []
        h = x
        for layer in self.encoder:
            h = layer(h)
            skips.append(h)
        skips.pop()  # the deepest encoder output feeds the first decoder layer directly
        for level, layer in enumerate(self.decoder):
            if level > 0 and self.skips:
                h = torch.cat([h, skips.pop()], dim=1)
            h = layer(h)
        return torch.sigmoid(h)

    def model_kwargs(self) -> dict:
        """Constructor arguments, stored in checkpoints so they rebuild the model."""
        return {"skips": self.skips, "in_channels": self.in_channels}
