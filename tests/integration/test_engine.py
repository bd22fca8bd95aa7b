"""Engines: a PostgreSQL URL's own libpq options are kept beside the hub's."""

import pytest
from sqlalchemy import inspect
from sqlalchemy.engine import make_url

from gateway.store.engine import make_engine
from gateway.store.migrate import upgrade

pytestmark = pytest.mark.postgres


def test_a_search_path_in_the_url_puts_the_hub_in_its_schema_with_the_lock_timeout(
    postgres_url,
):
    url = make_url(postgres_url).update_query_dict({"options": "-c search_path=lienthong"})
    engine = make_engine(url.render_as_string(hide_password=False), timeout_seconds=3)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE SCHEMA lienthong")
    upgrade(engine)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SHOW search_path").scalar() == "lienthong"
        assert conn.exec_driver_sql("SHOW lock_timeout").scalar() == "3s"
    tables = inspect(engine)
    assert "deliveries" in tables.get_table_names(schema="lienthong")
    assert "deliveries" not in tables.get_table_names(schema="public")
    engine.dispose()
