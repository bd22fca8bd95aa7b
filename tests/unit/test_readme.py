"""The README documents every fault code and every setting."""

from dataclasses import fields
from pathlib import Path

import pytest

from gateway.errors import CATALOGUE
from gateway.settings import Settings

README = (Path(__file__).parents[2] / "README.md").read_text()


@pytest.mark.parametrize("code", [error.code for error in CATALOGUE])
def test_every_fault_code_is_in_the_fault_table(code):
    assert f"| `{code}` |" in README


@pytest.mark.parametrize("name", [field.name for field in fields(Settings)])
def test_every_setting_is_in_the_settings_table(name):
    assert f"| `LIENTHONG_{name.upper()}` |" in README


def test_settings_are_read_from_the_environment():
    settings = Settings.from_env(
        {"LIENTHONG_PORT": "9090", "LIENTHONG_DB_URL": "sqlite:///x.db"}, port=None
    )
    assert (settings.port, settings.db_url) == (9090, "sqlite:///x.db")
    assert settings.public_url == "http://127.0.0.1:9090/soap"
    assert Settings.from_env({"LIENTHONG_PORT": "9090"}, port=7070).port == 7070


def test_the_in_flight_limit_is_shared_among_workers():
    assert Settings(max_in_flight=64, workers=4).in_flight_per_worker == 16
    assert Settings(max_in_flight=2, workers=4).in_flight_per_worker == 1
