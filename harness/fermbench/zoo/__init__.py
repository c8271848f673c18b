"""Models by name: the study's architectures, any registered through the `fermbench.models` entry
points, or a `package.module:factory`; their specs, and checkpoints."""

from .registry import (
    ENTRY_POINT_GROUP,
    MODEL_NAMES,
    STUDY_MODELS,
    Architecture,
    ModelInfo,
    architectures,
    build_model,
    check_name,
    model_info,
    resolve,
)
from .spec import CENTER_CROP, FACE_CROP, STRETCH, ModelSpec, Preprocess

__all__ = [
    "CENTER_CROP",
    "ENTRY_POINT_GROUP",
    "FACE_CROP",
    "MODEL_NAMES",
    "STRETCH",
    "STUDY_MODELS",
    "Architecture",
    "ModelInfo",
    "ModelSpec",
    "Preprocess",
    "architectures",
    "build_model",
    "check_name",
    "model_info",
    "resolve",
]
