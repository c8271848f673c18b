"""FER-2013 facts every step shares: class order, input shape, normalisation."""

from __future__ import annotations

# The dataset's own label order (not alphabetical: never let ImageFolder assign it).
CLASS_NAMES: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
NUM_CLASSES = len(CLASS_NAMES)

# The study's three models, in its order (registered as zoo entry points under these names; the
# report reads them here so that it needs no torch to tell the study's models from others).
STUDY_MODELS: tuple[str, ...] = ("shallow_cnn", "deep_cnn", "resnet9")

INPUT_SHAPE: tuple[int, int, int, int] = (1, 1, 48, 48)  # N, C, H, W; grayscale 48x48

# Mean and std of the FER-2013 Training split in [0, 1] (pixels / 255); the model's input is
# (x / 255 - MEAN) / STD. Measured on ../shared/fer2013/train (28,709 images).
NORM_MEAN = 0.5077
NORM_STD = 0.2550
