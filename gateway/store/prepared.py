"""The statements every request runs: compiled once per dialect, run on the driver's cursor.

Running a statement through SQLAlchemy's ``Connection.execute`` costs about 35 µs (its
execution context, events and result object) where SQLite itself takes about 5 µs, and
a SendDocument runs a dozen. A prepared statement is still SQLAlchemy's: built with its
expression language, compiled by its dialect, its values converted by its types and its
errors raised as its exceptions; an expanding ``IN`` list is expanded by its compiler.
Only the per-execution bookkeeping is left out, which is why statements that need it
(Python-side column defaults) are refused here and stay on ``Connection.execute``.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, bindparam
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError, InvalidRequestError


class Prepared:
    """One statement, or one per dialect when ``statement`` is a function of the dialect.

    An INSERT or UPDATE without explicit values sets the ``columns`` given."""

    def __init__(
        self, statement: Any | Callable[[Dialect], Any], columns: Sequence[str] | None = None
    ):
        self._statement = statement
        self._columns = list(columns) if columns is not None else None
        self._compiled: dict[str, _Compiled] = {}

    def rows(self, conn: Connection, params: Mapping[str, Any] | None = None) -> list:
        """The rows the statement returns, as named tuples."""
        return self._for(conn.dialect).run(conn, params or {})

    def first(self, conn: Connection, params: Mapping[str, Any] | None = None):
        """The first row, or None."""
        rows = self.rows(conn, params)
        return rows[0] if rows else None

    def scalar(self, conn: Connection, params: Mapping[str, Any] | None = None):
        """The first column of the first row, or None."""
        rows = self.rows(conn, params)
        return rows[0][0] if rows else None

    def run(self, conn: Connection, params: Mapping[str, Any] | None = None) -> None:
        """Run a statement that returns nothing."""
        self.rows(conn, params)

    def count(self, conn: Connection, params: Mapping[str, Any] | None = None) -> int:
        """Run an INSERT, UPDATE or DELETE; the number of rows it changed. (Where only
        that is wanted, SQLite answers it faster than a RETURNING clause, whose rows it
        gathers in a table of their own first.)"""
        return self._for(conn.dialect).answer(conn, params or {}, _row_count)

    def new_key(self, conn: Connection, params: Mapping[str, Any] | None = None) -> int:
        """Run an INSERT of one row; the key it was given: what the statement returns
        (give it a RETURNING clause for the databases that need one), or SQLite's last
        row id where it returns nothing."""
        compiled = self._for(conn.dialect)
        if compiled.returns_rows:
            return compiled.run(conn, params or {})[0][0]
        return compiled.answer(conn, params or {}, _last_row_id)

    def run_many(self, conn: Connection, params: Sequence[Mapping[str, Any]]) -> None:
        """Run the statement once for each set of ``params`` (returning nothing)."""
        if params:
            self._for(conn.dialect).run_many(conn, params)

    def _for(self, dialect: Dialect) -> _Compiled:
        compiled = self._compiled.get(dialect.name)
        if compiled is None:
            statement = self._statement
            if callable(statement):
                statement = statement(dialect)
            compiled = _Compiled(statement, dialect, self._columns)
            self._compiled[dialect.name] = compiled
        return compiled


FEW = 8
"""Lists up to this long get a statement with one parameter per value."""


class PreparedIn:
    """A statement over the rows whose ``column`` is in a list of values, built by
    ``build(condition)`` once per length: with ``=`` for one value (the common case),
    ``IN`` with one parameter per value up to FEW, and an expanding ``IN`` list beyond,
    whose expansion costs SQLAlchemy's compiler more than a short query takes."""

    def __init__(self, build: Callable[[Any], Any], column):
        item = [bindparam(f"in_{i}", type_=column.type) for i in range(FEW)]
        self._few = {1: Prepared(build(column == item[0]))}
        self._few.update({n: Prepared(build(column.in_(item[:n]))) for n in range(2, FEW + 1)})
        self._many = Prepared(build(column.in_(bindparam("in_many", expanding=True))))

    def rows(
        self, conn: Connection, values: Sequence, params: Mapping[str, Any] | None = None
    ) -> list:
        statement = self._few.get(len(values))
        if statement is None:
            return self._many.rows(conn, {**(params or {}), "in_many": list(values)})
        return statement.rows(
            conn, {**(params or {}), **{f"in_{i}": v for i, v in enumerate(values)}}
        )


class _Compiled:
    """The SQL of one statement for one dialect, with its value converters."""

    def __init__(self, statement, dialect: Dialect, columns: list[str] | None):
        compiled = statement.compile(dialect=dialect, column_keys=columns)
        if getattr(compiled, "insert_prefetch", None) or getattr(compiled, "update_prefetch", None):
            raise ValueError("give every column a value: Python-side defaults are not run here")
        # Whether the compiler finishes the SQL with the values (IN lists, literals).
        self._expands = bool(compiled.post_compile_params or compiled.literal_execute_params)
        self._compiled = compiled
        self.sql = compiled.string
        self._to_driver = {
            name: processor
            for name, bind in compiled.binds.items()
            if (processor := bind.type.dialect_impl(dialect).bind_processor(dialect))
        }
        binders = {
            compiled.escaped_bind_names.get(name, name): (bind, name, self._to_driver.get(name))
            for bind, name in compiled.bind_names.items()
        }
        # The driver takes the values in order (SQLite), or by name (PostgreSQL).
        self._names = compiled.positiontup if compiled.positional else list(binders)
        self._binders = [
            (bind.key, processor is None, (bind, name, processor))
            for bind, name, processor in (binders[name] for name in self._names)
        ]
        self._positional = compiled.positional
        columns = getattr(statement, "exported_columns", None) or ()
        self._row = namedtuple("Row", list(columns.keys()), rename=True) if columns else None
        self._from_driver = [
            (index, processor)
            for index, column in enumerate(columns)
            if (processor := column.type.dialect_impl(dialect).result_processor(dialect, None))
        ]

    def run(self, conn: Connection, params: Mapping[str, Any]) -> list:
        sql, values = self._values(conn, params)
        if self._row is None:
            _on_driver(conn, sql, values)
            return []
        fetched = _on_driver(conn, sql, values, read=_all_rows)
        if not self._from_driver:
            return list(map(self._row._make, fetched))
        return [self._row._make(self._converted(row)) for row in fetched]

    @property
    def returns_rows(self) -> bool:
        return self._row is not None

    def answer(self, conn: Connection, params: Mapping[str, Any], read: Callable) -> Any:
        """What ``read`` takes from the driver's cursor after a statement that returns
        no rows."""
        if self.returns_rows:
            raise ValueError("a statement that returns rows: read them instead")
        sql, values = self._values(conn, params)
        return _on_driver(conn, sql, values, read=read)

    def _converted(self, row: tuple) -> list:
        """A row's values, converted by the columns' types where they have converters."""
        values = list(row)
        for index, processor in self._from_driver:
            values[index] = processor(values[index])
        return values

    def run_many(self, conn: Connection, params: Sequence[Mapping[str, Any]]) -> None:
        if self._expands:
            raise ValueError("an expanding IN list changes the SQL with each set of values")
        values = [self._values(conn, p)[1] for p in params]
        if len(values) == 1:  # psycopg runs executemany in pipeline mode: dearer for one
            _on_driver(conn, self.sql, values[0])
        else:
            _on_driver(conn, self.sql, values, many=True)

    def _values(self, conn: Connection, params: Mapping[str, Any]) -> tuple[str, Any]:
        """The SQL and the driver's values for ``params``, in a transaction begun if
        need be."""
        if not conn.in_transaction():
            conn.begin()  # as Connection.execute would
        if not self._expands:
            values = [
                # most values are given under the parameter's own key, needing no converter
                params[key] if plain and key in params else _driver_value(params, *binder)
                for key, plain, binder in self._binders
            ]
            if self._positional:
                return self.sql, values
            return self.sql, dict(zip(self._names, values, strict=True))
        state = self._compiled.construct_expanded_state(params)
        values = dict(state.parameters)
        # The statement's own converters, and those of the list's items.
        for name, processor in {**self._to_driver, **state.processors}.items():
            if name in values:
                values[name] = processor(values[name])
        if state.positiontup is not None:
            return state.statement, tuple(values[name] for name in state.positiontup)
        return state.statement, values


def _driver_value(params: Mapping[str, Any], bind, name: str, processor) -> Any:
    """A bind parameter's value for the driver, as ``construct_params`` and the type's
    converter give it."""
    if bind.key in params:
        value = params[bind.key]
    elif name in params:
        value = params[name]
    elif bind.required:
        raise InvalidRequestError(f"A value is required for bind parameter {bind.key!r}")
    else:
        value = bind.effective_value if bind.callable else bind.value
    return value if processor is None else processor(value)


def begin_on_driver(conn: Connection, sql: str) -> None:
    """Run ``sql`` (a BEGIN) on the driver, from SQLAlchemy's "begin" event."""
    _on_driver(conn, sql, ())


def _all_rows(cursor):
    return cursor.fetchall()


def _row_count(cursor):
    return cursor.rowcount


def _last_row_id(cursor):
    return cursor.lastrowid


def _on_driver(conn: Connection, sql: str, values, *, many=False, read=None) -> Any:
    """Run ``sql`` on the connection's driver cursor and return what ``read`` takes
    from the cursor (nothing without it); or raise the driver's error as SQLAlchemy's
    (the connection invalidated if it is gone)."""
    driver = conn.connection.dbapi_connection  # the driver's own, on a synchronous engine
    cursor = None
    try:
        cursor = driver.cursor()
        if many:
            cursor.executemany(sql, values)
        else:
            cursor.execute(sql, values)
        return read(cursor) if read else ()
    except conn.dialect.loaded_dbapi.Error as error:
        dialect = conn.dialect
        gone = dialect.is_disconnect(error, driver, cursor)
        if gone:
            conn.invalidate(error)
        raise DBAPIError.instance(
            sql, values, error, dialect.loaded_dbapi.Error,
            connection_invalidated=gone, dialect=dialect,
        ) from error  # fmt: skip
    finally:
        if cursor is not None:
            cursor.close()
