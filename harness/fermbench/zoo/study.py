"""The study's three FER-2013 models as factories, registered under the `fermbench.models` entry
points in setup.cfg like any other package's: 48x48 grayscale faces, seven classes, the largest
face of a photo cropped (FACE_CROP), normalised with FER-2013's training mean and std."""

from __future__ import annotations

from ..labels import CLASS_NAMES, INPUT_SHAPE, NORM_MEAN, NORM_STD
from .deep_cnn import DeepCNN
from .resnet9 import ResNet9
from .shallow_cnn import ShallowCNN
from .spec import FACE_CROP, ModelSpec, Preprocess

FER_SPEC = ModelSpec(
    input_shape=INPUT_SHAPE,
    classes=CLASS_NAMES,
    preprocess=Preprocess(mean=(NORM_MEAN,), std=(NORM_STD,), resize=FACE_CROP),
)


def is_fer_spec(spec: ModelSpec) -> bool:
    """A model that reads FER-2013 as the study's do (same input, classes and normalisation): it
    can be scored on --fer-data and on face-cropped --photos."""
    return (
        tuple(spec.input_shape) == INPUT_SHAPE
        and tuple(spec.classes) == CLASS_NAMES
        and spec.preprocess.resize == FACE_CROP
    )


def shallow_cnn() -> tuple[ShallowCNN, ModelSpec]:
    return ShallowCNN(), FER_SPEC


def deep_cnn() -> tuple[DeepCNN, ModelSpec]:
    return DeepCNN(), FER_SPEC


def resnet9() -> tuple[ResNet9, ModelSpec]:
    return ResNet9(), FER_SPEC
