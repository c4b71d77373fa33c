"""Base record type shared by every contract, and its mapping to Arrow.

Every record that crosses a package boundary is a strict, frozen pydantic model.
Its Arrow schema is derived from the type annotations, so the Parquet layout and
the Python model cannot drift apart. Supported field types: ``str``, ``int``,
``float``, ``bool``, ``datetime``, ``Literal`` of strings, ``X | None``,
``list[X]``, ``tuple[X, ...]`` and fixed tuples of one type, and nested records.
Free-form mappings are not allowed: use a list of records, or a JSON string field.
"""

from __future__ import annotations

import datetime as dt
import json
import types
import typing
from collections.abc import Iterable, Sequence
from typing import Any, ClassVar, Literal, TypeVar, Union, get_args, get_origin

import pyarrow as pa
from pydantic import BaseModel, ConfigDict

SCHEMA_VERSION = "1.0.0"
"""Version of every record layout in this package; bump the major part on a breaking change."""

R = TypeVar("R", bound="Record")


class Record(BaseModel):
    """Strict, frozen, extra-forbidding pydantic model with an Arrow schema."""

    model_config = ConfigDict(strict=True, frozen=True, extra="forbid")

    schema_name: ClassVar[str] = ""

    @classmethod
    def arrow_schema(cls) -> pa.Schema:
        """Return the Arrow schema of this record, one column per field."""
        fields = [
            pa.field(name, _arrow_type(info.annotation, f"{cls.__name__}.{name}"), nullable=_is_optional(info.annotation))
            for name, info in cls.model_fields.items()
        ]
        return pa.schema(fields, metadata={b"tumorcot.record": cls.__name__.encode(), b"tumorcot.schema_version": SCHEMA_VERSION.encode()})

    def to_row(self) -> dict[str, Any]:
        """Return the record as a plain dict ready for ``pa.Table.from_pylist``."""
        return self.model_dump(mode="python")

    @classmethod
    def to_table(cls: type[R], records: Iterable[R]) -> pa.Table:
        """Build an Arrow table of ``records`` with this record's schema."""
        rows = []
        for record in records:
            if not isinstance(record, cls):
                raise TypeError(f"{cls.__name__}.to_table got a {type(record).__name__}")
            rows.append(record.to_row())
        return pa.Table.from_pylist(rows, schema=cls.arrow_schema())

    @classmethod
    def from_row(cls: type[R], row: dict[str, Any]) -> R:
        """Validate one Arrow/Parquet row back into the record.

        The row goes through JSON so that strict validation still applies while
        Arrow's lists become tuples and timestamps become datetimes.
        """
        return cls.model_validate_json(json.dumps(row, default=_json_default))

    @classmethod
    def from_table(cls: type[R], table: pa.Table) -> list[R]:
        """Validate every row of ``table`` into records of this type."""
        return [cls.from_row(row) for row in table.to_pylist()]


def _json_default(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    raise TypeError(f"cannot encode {type(value).__name__} in a record row")


def _is_optional(annotation: Any) -> bool:
    return type(None) in get_args(annotation) and get_origin(annotation) in (Union, types.UnionType)


def _arrow_type(annotation: Any, where: str) -> pa.DataType:
    origin = get_origin(annotation)
    args = get_args(annotation)

    if origin in (Union, types.UnionType):
        members = [a for a in args if a is not type(None)]
        if len(members) != 1:
            raise TypeError(f"{where}: unions other than 'X | None' have no Arrow type")
        return _arrow_type(members[0], where)
    if origin is typing.Annotated:
        return _arrow_type(args[0], where)
    if origin is Literal:
        if not all(isinstance(a, str) for a in args):
            raise TypeError(f"{where}: only string literals are supported")
        return pa.string()
    if origin in (list, Sequence):
        return pa.list_(_arrow_type(args[0], where))
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return pa.list_(_arrow_type(args[0], where))
        if len(set(args)) != 1:
            raise TypeError(f"{where}: fixed tuples must have one element type")
        return pa.list_(_arrow_type(args[0], where), len(args))
    if isinstance(annotation, type) and issubclass(annotation, Record):
        return pa.struct(
            [
                pa.field(name, _arrow_type(info.annotation, f"{where}.{name}"), nullable=_is_optional(info.annotation))
                for name, info in annotation.model_fields.items()
            ]
        )
    scalar = {str: pa.string(), int: pa.int64(), float: pa.float64(), bool: pa.bool_(), dt.datetime: pa.timestamp("us", tz="UTC")}
    if annotation in scalar:
        return scalar[annotation]
    raise TypeError(f"{where}: type {annotation!r} has no Arrow mapping; use a list of records or a JSON string")
