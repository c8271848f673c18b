"""Dataclasses <-> JSON, in one place: every result type is written and read through here.

The JSON keys are the dataclass field names, so a field has one name on disk, in pandas and in
the report. Reading checks each value's kind against the field's type and refuses keys the
class does not know (a newer fermbench wrote them), naming the file and the key.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from typing import Any, TypeVar, Union

from ..errors import ResultsError

T = TypeVar("T")

# Field metadata: a dict field whose items are written as keys of the enclosing object (not under
# the field's own name); its value names the keys it takes on reading. The metric table's values
# sit beside the record's fields this way, so a new metric is a new key, not a new field.
INLINE = "fermbench.inline_keys"
# Field metadata: a field left out of the JSON while it is None (a file read without it gets None),
# so that a record without the newer fact is written exactly as before the field existed.
OMIT_NONE = "fermbench.omit_none"


def to_json(obj: Any) -> Any:
    """A dataclass (or list/dict of them) as plain JSON values."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        out: dict[str, Any] = {}
        for f in dataclasses.fields(obj):
            value = to_json(getattr(obj, f.name))
            if value is None and f.metadata.get(OMIT_NONE):
                continue
            if INLINE in f.metadata:
                out.update(value)
            else:
                out[f.name] = value
        return out
    if isinstance(obj, (list, tuple)):
        return [to_json(v) for v in obj]
    if isinstance(obj, dict):
        return {str(k): to_json(v) for k, v in obj.items()}
    return obj


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def from_json(cls: type[T], data: Any, where: str) -> T:
    """`data` (parsed JSON) as an instance of dataclass `cls`; ResultsError naming `where`."""
    value: T = _convert(cls, data, where)
    return value


def _convert(tp: Any, value: Any, where: str) -> Any:
    origin = typing.get_origin(tp)
    if tp is Any:
        return value
    if origin in (Union, types.UnionType):
        options = typing.get_args(tp)
        if value is None and type(None) in options:
            return None
        errors = []
        for option in options:
            if option is type(None):
                continue
            try:
                return _convert(option, value, where)
            except ResultsError as exc:
                errors.append(str(exc))
        raise ResultsError(errors[0] if errors else f"{where}: unexpected null")
    if dataclasses.is_dataclass(tp):
        return _dataclass(tp, value, where)
    if origin in (list, tuple):
        if not isinstance(value, list):
            raise _kind(where, "a list", value)
        (item,) = typing.get_args(tp)[:1] or (Any,)
        items = [_convert(item, v, f"{where}[{i}]") for i, v in enumerate(value)]
        return items if origin is list else tuple(items)
    if origin is dict:
        if not isinstance(value, dict):
            raise _kind(where, "an object", value)
        _, item = typing.get_args(tp) or (str, Any)
        return {k: _convert(item, v, f"{where}.{k}") for k, v in value.items()}
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _kind(where, "a number", value)
        return value  # an int stays an int: rewriting a file must not change its numbers
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _kind(where, "a whole number", value)
        return value
    if tp in (str, bool):
        if not isinstance(value, tp):
            raise _kind(where, "a string" if tp is str else "true or false", value)
        return value
    raise TypeError(f"codec cannot read type {tp!r} at {where}")  # a bug in a result type


def _dataclass(cls: Any, value: Any, where: str) -> Any:
    if not isinstance(value, dict):
        raise _kind(where, "an object", value)
    hints = _hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init and INLINE not in f.metadata}
    inline = {f.name: f.metadata[INLINE] for f in dataclasses.fields(cls) if INLINE in f.metadata}
    taken = {key: name for name, keys in inline.items() for key in keys}
    gathered: dict[str, dict[str, Any]] = {name: {} for name in inline}
    for key in [k for k in value if k in taken and k not in fields]:
        gathered[taken[key]][key] = value[key]
    value = {k: v for k, v in value.items() if k not in taken or k in fields}
    unknown = sorted(set(value) - set(fields))
    if unknown:
        raise ResultsError(
            f"{where}: unknown key(s) {', '.join(unknown)}; it was written by a newer "
            f"fermbench: read it with that version"
        )
    missing = [
        name
        for name, f in fields.items()
        if name not in value and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    ]
    if missing:
        raise ResultsError(f"{where}: missing key(s) {', '.join(missing)}; the file is incomplete or corrupt")
    kwargs = {k: _convert(hints[k], v, f"{where}.{k}") for k, v in value.items()}
    for name, items in gathered.items():
        kwargs[name] = {k: _convert(typing.get_args(hints[name])[1], v, f"{where}.{k}") for k, v in items.items()}
    return cls(**kwargs)


def _kind(where: str, expected: str, value: Any) -> ResultsError:
    return ResultsError(
        f"{where}: expected {expected}, found {type(value).__name__} {str(value)[:40]!r}; the file is corrupt"
    )
