"""The wire types of the contract. Lists are repeated elements, never wrapped arrays."""

from spyne import Boolean, ByteArray, ComplexModel, Date, DateTime, Enum, Integer, Unicode

from gateway import ns
from gateway.hub.directory import MAX_LISTING

_REQUIRED = dict(min_occurs=1, nillable=False)


def _named(base, name: str, **attributes):
    """A simple type of our namespace with its own name in the WSDL."""
    return base(type_name=name, __namespace__=ns.GATEWAY, **attributes)


AgencyCode = _named(
    Unicode, "AgencyCode", max_len=35, min_len=1, pattern=r"[0-9A-Z]+(\.[0-9A-Z]+)*", **_REQUIRED
)
MessageId = _named(Unicode, "MessageId", max_len=36, min_len=1, **_REQUIRED)
DocumentId = _named(Unicode, "DocumentId", max_len=255, min_len=1, **_REQUIRED)
MessageKind = Enum("document", "status", type_name="MessageKind", __namespace__=ns.GATEWAY)
DeliveryState = Enum(
    "pending",
    "leased",
    "acknowledged",
    "withdrawn",
    "forwarded",
    "failed",
    type_name="DeliveryState",
    __namespace__=ns.GATEWAY,
)
SignatureMark = Enum("none", "valid", "weak", type_name="SignatureMark", __namespace__=ns.GATEWAY)
"""How the hub found a document's XML signature: none, valid, or weak (SHA-1, admitted)."""
Timestamp = DateTime(**_REQUIRED)
Content = ByteArray(**_REQUIRED)


class _Model(ComplexModel):
    __namespace__ = ns.GATEWAY


class Delivery(_Model):
    """One recipient of a sent document, and the message id it will receive it under."""

    _type_info = [
        ("Recipient", AgencyCode),
        ("MessageId", MessageId),
        ("State", DeliveryState.customize(**_REQUIRED)),
    ]


class SendResult(_Model):
    """What the hub stored: the DocumentId, when, and one Deliveries entry per recipient."""

    _type_info = [
        ("DocumentId", DocumentId),
        ("ReceivedAt", Timestamp),
        ("Deliveries", Delivery.customize(max_occurs="unbounded", min_occurs=0, nillable=False)),
    ]


class ReceivedDocument(_Model):
    """A message waiting for the caller: an edXML document or status message, byte-exact.

    Recipient is the agency it is for: the caller, or (for a hub collecting for the
    agencies behind it) one of those."""

    _type_info = [
        ("MessageId", MessageId),
        ("DocumentId", DocumentId),
        ("Sender", AgencyCode),
        ("Kind", MessageKind.customize(**_REQUIRED)),
        ("ReceivedAt", Timestamp),
        ("Document", Content),
        ("Signature", SignatureMark.customize(min_occurs=0, nillable=False)),
        ("Recipient", Unicode(35, min_occurs=0, nillable=False)),
    ]


class AckResult(_Model):
    """How many MessageIds were acknowledged, and which were not the caller's."""

    _type_info = [
        ("Acknowledged", Integer(**_REQUIRED)),
        ("Unknown", Unicode(max_occurs="unbounded", min_occurs=0, nillable=False)),
    ]


class TimelineEvent(_Model):
    """One step in a document's life at one recipient."""

    _type_info = [
        ("At", Timestamp),
        ("Event", Unicode(32, **_REQUIRED)),
        ("StatusCode", Unicode(2, min_occurs=0, nillable=False)),
        ("Description", Unicode(min_occurs=0, nillable=False)),
    ]


class RecipientStatus(_Model):
    """Where a document stands at one recipient: transport state, latest business status."""

    _type_info = [
        ("Recipient", AgencyCode),
        ("MessageId", MessageId),
        ("TransportState", DeliveryState.customize(**_REQUIRED)),
        ("LatestStatusCode", Unicode(2, min_occurs=0, nillable=False)),
        ("LatestStatusDescription", Unicode(min_occurs=0, nillable=False)),
        ("LatestStatusAt", DateTime(min_occurs=0, nillable=False)),
        ("Events", TimelineEvent.customize(max_occurs="unbounded", min_occurs=0, nillable=False)),
    ]


class SendStatus(_Model):
    """The delivery timeline of a document, one Recipients entry per recipient."""

    _type_info = [
        ("DocumentId", DocumentId),
        ("Sender", AgencyCode),
        ("ReceivedAt", Timestamp),
        (
            "Recipients",
            RecipientStatus.customize(max_occurs="unbounded", min_occurs=0, nillable=False),
        ),
    ]


class AgencyInfo(_Model):
    """A directory entry: an agency, its place in the hierarchy, and whether it is active."""

    _type_info = [
        ("Code", AgencyCode),
        ("Name", Unicode(**_REQUIRED)),
        ("ParentCode", Unicode(35, min_occurs=0, nillable=False)),
        ("Active", Boolean(**_REQUIRED)),
        ("Certificate", Unicode(min_occurs=0, nillable=False)),
        ("Endpoint", Unicode(min_occurs=0, nillable=False)),
    ]


class DayCount(_Model):
    _type_info = [
        ("Day", Date(**_REQUIRED)),
        ("Sent", Integer(**_REQUIRED)),
        ("Bytes", Integer(**_REQUIRED)),
    ]


class NamedCount(_Model):
    _type_info = [("Name", Unicode(**_REQUIRED)), ("Count", Integer(**_REQUIRED))]


class WaitingDelivery(_Model):
    """A delivery nobody has fetched yet, of a document the caller sent."""

    _type_info = [
        ("DocumentId", DocumentId),
        ("Recipient", AgencyCode),
        ("ReceivedAt", Timestamp),
    ]


def _many(model):
    return model.customize(max_occurs="unbounded", min_occurs=0, nillable=False)


class Statistics(_Model):
    """An agency's own figures for a period: what it sent and received, and what waits."""

    _type_info = [
        ("Agency", AgencyCode),
        ("From", Timestamp),
        ("To", Timestamp),
        ("Sent", Integer(**_REQUIRED)),
        ("SentBytes", Integer(**_REQUIRED)),
        ("Received", Integer(**_REQUIRED)),
        ("Acknowledged", Integer(**_REQUIRED)),
        ("Pending", Integer(**_REQUIRED)),
        ("Refused", Integer(**_REQUIRED)),
        ("OldestPendingAt", DateTime(min_occurs=0, nillable=False)),
        ("Days", _many(DayCount)),
        ("DocumentTypes", _many(NamedCount)),
        ("StatusCodes", _many(NamedCount)),
        ("NotPickedUp", _many(WaitingDelivery)),
    ]


MaxCount = Integer(ge=1, min_occurs=0, nillable=False)
PageSize = Integer(ge=1, le=MAX_LISTING, min_occurs=0, nillable=False)
"""How many agencies a page of the directory may hold."""
MessageIds = Unicode(max_occurs="unbounded", min_occurs=0, nillable=False)
ParentCode = Unicode(35, min_occurs=0, nillable=False)
After = Unicode(35, min_occurs=0, nillable=False)
"""A listing's page starts after this code: the last one of the page before."""
Period = DateTime(min_occurs=0, nillable=False)
