"""/metrics and /health: refused on the public port without the token, open on the admin port."""

import pytest
import requests

from client.connector import Connector
from client.errors import HubFault
from tests.builders import G12, H31, document
from tests.hubprocess import free_port, start_hub, stop_hub

TOKEN = "ops-secret"


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ops")
    admin = free_port()
    running = start_hub(
        tmp, f"sqlite:///{tmp / 'hub.db'}", ops_token=TOKEN, admin_port=admin, workers=2
    )
    running.admin_url = f"http://127.0.0.1:{admin}"
    yield running
    stop_hub(running)


def base(hub) -> str:
    return hub.url.removesuffix("/soap")


def test_the_public_port_wants_the_token(hub):
    for path in ("/metrics", "/health"):
        assert requests.get(base(hub) + path, timeout=10).status_code == 403
        wrong = {"Authorization": "Bearer nope"}
        assert requests.get(base(hub) + path, headers=wrong, timeout=10).status_code == 403
    auth = {"Authorization": f"Bearer {TOKEN}"}
    health = requests.get(base(hub) + "/health", headers=auth, timeout=10)
    assert (health.status_code, health.text) == (200, "ok\n")


def test_metrics_count_requests_faults_and_backlog_across_workers(hub):
    sender = Connector(hub.url, G12, hub.passwords[G12])
    for n in range(4):
        sender.send(document(document_id=f"G12,metrics,{n}"))
    with pytest.raises(HubFault):
        Connector(hub.url, H31, "wrong", retry_for=0).fetch()
    text = requests.get(hub.admin_url + "/metrics", timeout=10).text
    sent = [
        line for line in text.splitlines()
        if line.startswith("lienthong_requests_total{") and 'operation="SendDocument"' in line
        and 'outcome="ok"' in line
    ]  # fmt: skip
    assert sum(float(line.split()[-1]) for line in sent) == 4
    assert 'outcome="Client.Authentication"' in text
    assert 'lienthong_backlog_messages{inbox="000.00.00.H31"} 4.0' in text
    assert "lienthong_request_seconds_bucket" in text
    assert requests.get(hub.admin_url + "/health", timeout=10).status_code == 200


def test_wrong_passwords_lock_a_dashboard_operator_across_workers(hub):
    for name in ("Trực ban", "Giám sát"):
        added = hub.admin("operator", "add", name, "--password-stdin", stdin="đúng rồi\n")
        assert added.returncode == 0, added.stderr

    def sign_in(password: str, name: str = "Trực ban", session=requests) -> int:
        form = {"name": name, "password": password}
        login = base(hub) + "/dashboard/login"
        return session.post(login, data=form, allow_redirects=False, timeout=30).status_code

    assert [sign_in("sai") for _ in range(10)] == [401] * 10  # LIENTHONG_MAX_FAILED_SIGN_INS
    assert sign_in("đúng rồi") == 401
    assert "Operator Trực ban gave 10 wrong passwords in a row" in hub.log.read_text()
    scraped = requests.get(hub.admin_url + "/metrics", timeout=10).text
    assert 'lienthong_sign_ins_locked{who="operator"} 1.0' in scraped
    assert 'lienthong_sign_ins_locked{who="agency"} 0.0' in scraped
    with requests.Session() as colleague:
        assert sign_in("đúng rồi", "Giám sát", colleague) == 303
        page = colleague.get(base(hub) + "/dashboard", timeout=30).text
        assert 'data-operator="Trực ban"' in page
    assert hub.admin("operator", "unlock", "Trực ban").returncode == 0
    assert sign_in("đúng rồi") == 303
