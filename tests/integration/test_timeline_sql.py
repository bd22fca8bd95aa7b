"""The status, revoke and timeline scenarios of the unit tests, on the SQL store."""

import inspect

import pytest

from gateway.bootstrap import build_gateway
from gateway.hub.hub import Hub
from gateway.settings import Settings
from tests.builders import G12, H31, H49
from tests.unit import test_timeline as scenarios
from tests.unit.test_timeline import H14, Clock

SCENARIOS = [
    name
    for name, function in vars(scenarios).items()
    if name.startswith("test_") and list(inspect.signature(function).parameters) == ["hub"]
]
"""The scenarios that need nothing but a hub (not the fake store's internals)."""


@pytest.fixture
def hub(database_url):
    gateway = build_gateway(Settings(db_url=database_url))
    for code in (G12, H31, H49, H14):
        gateway.directory.add(code, f"Cơ quan {code}", "pw")
    yield Hub(gateway.unit_of_work, gateway.settings, clock=Clock())
    gateway.engine.dispose()


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_scenario_on_sql(scenario, hub):
    getattr(scenarios, scenario)(hub)


def test_the_directory_on_sql(database_url):
    gateway = build_gateway(Settings(db_url=database_url))
    directory = gateway.directory
    directory.add("000.00.00.G14", "Bộ Ngoại giao", "pw")
    rows = [("000.00.01.G14", "Vụ Một"), ("000.00.02.G14", "Vụ Hai"), ("000.00.01.G14", "Vụ 1")]
    assert directory.import_names(iter(rows)) == 2
    directory.import_names(iter([("000.00.00.G14", "Bộ Ngoại giao (đổi tên)")]))
    children = directory.list("000.00.00.G14")
    assert [(a.code, a.name, a.parent_code) for a in children] == [
        ("000.00.01.G14", "Vụ 1", "000.00.00.G14"),
        ("000.00.02.G14", "Vụ Hai", "000.00.00.G14"),
    ]
    [ministry] = [a for a in directory.list() if a.code == "000.00.00.G14"]
    assert ministry.name == "Bộ Ngoại giao (đổi tên)" and ministry.password_hash
    gateway.engine.dispose()
