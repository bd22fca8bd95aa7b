"""What SQLite plans for the statements a piece of the hub makes."""

from sqlalchemy import event


def sqlite_plans(gateway, run, marker: str) -> dict[str, str]:
    """SQLite's plan of each statement holding ``marker`` that ``run()`` makes."""
    read = []

    def keep(conn, cursor, statement, parameters, context, executemany):
        if marker in statement:
            read.append((statement, parameters))

    event.listen(gateway.engine, "before_cursor_execute", keep)
    try:
        run()
    finally:
        event.remove(gateway.engine, "before_cursor_execute", keep)
    with gateway.engine.connect() as conn:
        return {
            statement: " ".join(row[-1] for row in conn.exec_driver_sql(
                "EXPLAIN QUERY PLAN " + statement, parameters))
            for statement, parameters in read
        }  # fmt: skip
