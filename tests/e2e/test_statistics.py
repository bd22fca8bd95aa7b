"""Statistics through GetStatistics and the operator's command line."""

import uuid

from client.connector import Connector
from tests.builders import G12, H31, H49, document


def test_an_agency_gets_its_own_figures_and_the_operator_all(hub):
    sender = Connector(hub.url, H49, hub.passwords[H49])
    before = sender.statistics()
    for _ in range(2):
        sender.send(document(sender=H49, recipients=(H31, G12), document_id=uuid.uuid4().hex))
    after = sender.statistics()
    assert after["Sent"] == before["Sent"] + 2
    assert after["SentBytes"] > before["SentBytes"]
    assert sum(day["Sent"] for day in after["Days"]) == after["Sent"]
    assert {t["Name"] for t in after["DocumentTypes"]} >= {"Công văn"}
    table = hub.admin("stats", "--agency", H49)
    assert table.returncode == 0, table.stderr
    [row] = [line for line in table.stdout.splitlines() if line.startswith(H49)]
    assert int(row.split()[1]) == after["Sent"]
    assert "not picked up for more than 24 hours" in table.stdout
    everyone = hub.admin("stats")
    assert everyone.returncode == 0, everyone.stderr
    listed = [line.split()[0] for line in everyone.stdout.splitlines() if line[:1].isdigit()]
    assert {H49, H31, G12} <= set(listed) and listed == sorted(listed)
    assert "left out" in everyone.stdout
