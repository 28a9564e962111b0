"""
column-wise text rows (the Chrome trace export)
"""
from __future__ import annotations
import collections.abc
import numpy
import numpy.typing
import typing
__all__: list[str] = ['Column', 'ColumnKind', 'format_rows', 'write_rows']
class ColumnKind:
    """
    Members:
    
      LITERAL
    
      INTEGER
    
      FIXED
    
      CHOICE
    
      OPTIONAL
    """
    CHOICE: typing.ClassVar[ColumnKind]
    FIXED: typing.ClassVar[ColumnKind]
    INTEGER: typing.ClassVar[ColumnKind]
    LITERAL: typing.ClassVar[ColumnKind]
    OPTIONAL: typing.ClassVar[ColumnKind]
    __members__: typing.ClassVar[dict[str, ColumnKind]]
    @typing.overload
    def __eq__(self, other: ColumnKind) -> bool:
        ...
    @typing.overload
    def __eq__(self, other: typing.Any) -> bool:
        ...
    def __getstate__(self) -> int:
        ...
    def __hash__(self) -> int:
        ...
    def __index__(self) -> int:
        ...
    def __init__(self, value: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    def __int__(self) -> int:
        ...
    @typing.overload
    def __ne__(self, other: ColumnKind) -> bool:
        ...
    @typing.overload
    def __ne__(self, other: typing.Any) -> bool:
        ...
    def __repr__(self) -> str:
        ...
    def __setstate__(self, state: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    def __str__(self) -> str:
        ...
    @property
    def name(self) -> str:
        ...
    @property
    def value(self) -> int:
        ...
class Column:
    """
    one column of format_rows (textrows/rows.h says each kind)
    """
    def __init__(self, kind: ColumnKind, text: bytes, values: typing.Annotated[numpy.typing.ArrayLike, numpy.int64], mask: typing.Annotated[numpy.typing.ArrayLike, numpy.uint8], table: typing.Annotated[numpy.typing.ArrayLike, numpy.uint8], table_width: typing.SupportsInt | typing.SupportsIndex, decimals: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
def format_rows(n: typing.SupportsInt | typing.SupportsIndex, columns: collections.abc.Sequence[Column]) -> bytes:
    """
    the text of n rows, each the columns' text in order (textrows/rows.h)
    """
def write_rows(fd: typing.SupportsInt | typing.SupportsIndex, n: typing.SupportsInt | typing.SupportsIndex, columns: collections.abc.Sequence[Column]) -> int:
    """
    writes the text of n rows to the file descriptor fd; returns the bytes written
    """
