"""The study's architectures, a registry by name, and checkpoints."""

from .registry import ARCHITECTURES, MODEL_NAMES, ModelInfo, build_model, check_name, model_info

__all__ = ["ARCHITECTURES", "MODEL_NAMES", "ModelInfo", "build_model", "check_name", "model_info"]
