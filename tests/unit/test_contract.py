"""The files in wsdl/ are the contract the hub serves; they must not drift."""

from pathlib import Path

import zeep

from gateway.settings import Settings
from gateway.soap.application import DEFAULT_ADDRESS, interface_document

CONTRACT = Path(__file__).parents[2] / "wsdl"


def test_wsdl_folder_matches_what_the_hub_serves():
    assert interface_document(Settings()) == (CONTRACT / "lienthong.wsdl").read_bytes(), (
        "wsdl/lienthong.wsdl is out of date: run `make wsdl`"
    )


def test_the_published_address_follows_the_setting():
    served = interface_document(Settings(public_url="https://hub.example.gov.vn/soap"))
    assert b"https://hub.example.gov.vn/soap" in served
    assert DEFAULT_ADDRESS.encode() not in served


def test_zeep_reads_the_contract_and_its_lists_are_repeated_elements():
    client = zeep.Client(str(CONTRACT / "lienthong.wsdl"))
    operations = client.service._binding._operations
    assert set(operations) == {
        "SendDocument",
        "GetDocuments",
        "AckDocument",
        "GetSendStatus",
        "GetAgencies",
        "GetAgencyCertificate",
        "GetStatistics",
    }
    ack = client.get_element("{urn:lienthong:gateway:1}AckDocument")
    [(name, element)] = ack.type.elements
    assert (name, element.max_occurs) == ("MessageIds", "unbounded")
