"""Model files the user already has: a .ptl, .pte or .tflite given to `fermbench run
--model-file`, its runtime read from its content and its input from the file (or --input-shape)."""

from .formats import FORMATS, FileKind, detect_format
from .given import SHAPE_FROM_FILE, SHAPE_FROM_OPTION, GivenFile, inspect_model_file, inspect_model_files, safe_name
from .input_shape import format_shape, parse_input_shape

__all__ = [
    "FORMATS",
    "SHAPE_FROM_FILE",
    "SHAPE_FROM_OPTION",
    "FileKind",
    "GivenFile",
    "detect_format",
    "format_shape",
    "inspect_model_file",
    "inspect_model_files",
    "parse_input_shape",
    "safe_name",
]
