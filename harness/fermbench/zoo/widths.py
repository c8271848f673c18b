"""The one place where the architectures' sizes are chosen, and why.

The FER-M study gives the CNNs' layer counts but not their widths or hidden sizes. We choose:

- Channels double per stage (64 -> 128 -> 256), the VGG habit that ResNet-9 also follows, so the
  three models differ in depth and shortcuts rather than in width.
- Hidden sizes 1024 and 512. After three 2x2 poolings a 48x48 input is 6x6, so the first Linear
  layer of either CNN sees 256*6*6 = 9216 features: 9216x1024 = 9.4 M weights. That dense head
  is what makes both CNNs *larger files* than ResNet-9 (6.6 M parameters, almost all in
  convolutions, with global pooling before a 512x7 classifier), as the study observed, while the
  CNNs need far fewer multiply-accumulates than ResNet-9.
"""

from __future__ import annotations

CNN_CHANNELS: tuple[int, int, int] = (64, 128, 256)
CNN_HIDDEN: tuple[int, int] = (1024, 512)
RESNET9_CHANNELS: tuple[int, int, int, int] = (64, 128, 256, 512)  # prep, layer1, layer2, layer3
