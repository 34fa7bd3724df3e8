"""Built-in sample events: one per callback type, every documented token with a value.

All values are synthetic and carry no patient data: phone numbers are in the 555 range
reserved for fiction, names and addresses are placeholders (``example.com``), the sms
and call_alert samples are RingRx's own published examples. voicemail and fax events
carry a small generated file (a WAV of silence, a one-page blank PDF).
"""

from __future__ import annotations

import copy
import struct
from dataclasses import dataclass
from typing import Any

# Fields of the sms sample that the doc publishes verbatim.
_SMS: dict[str, Any] = {
    "from": "8185551234",
    "to": "8185559876",
    "message": "Test callback",
    "timestamp": "2019-02-15T23:48:54+00:00",
    "uuid": "6ed8654e-a9d1-4a7c-9502-581210d0985f",
}
_CDR: dict[str, Any] = {
    "id": 880001,
    "domain_name": "customer.ringrx.com",
    "aleg_uuid": "0f5e2b8e-2d2c-4a37-9a55-6c2f3f1d8a10",
    "responsible_party": "8000",
    "start_time": "2026-01-02T03:04:05+00:00",
    "hangup_cause": "NORMAL_CLEARING",
    "dialed_digits": "+18185559876",
    "calling_party": "+18185551234",
    "caller_id_number": "+18185551234",
    "caller_id_name": "Dr Smith",
    "duration": 95,
    "bill_duration": 80,
    "direction": "inbound",
    "mailbox": "",
    "aleg_holdtime": 0,
    "bleg_holdtime": 12,
    "tags": "inbound,reception_queue",
}
_SAMPLES: dict[str, dict[str, Any]] = {
    "sms": _SMS,
    "voicemail": {
        "id": 5012,
        "caller": "+18185551234",
        "called": "+18185559876",
        "duration": 17,
        "filename": "voicemail-5012.wav",
        "mailbox": "1001",
        "created_at": "2026-01-02T03:04:05+00:00",
    },
    "fax": {
        "id": 7003,
        "caller": "+18185551234",
        "called": "+18185559876",
        "pages": 2,
        "filename": "fax-7003.pdf",
        "mailbox": "7001",
        "created_at": "2026-01-02T03:04:05+00:00",
    },
    "cdr": _CDR,
    "recording": dict(_CDR, id=880002),
    "outreach": {
        "id": 3301,
        "name": "Jane Doe",
        "phonenumber": "+18185551234",
        "email_address": "jane.doe@example.com",
        "call_state": "completed",
        "sms_state": "delivered",
        "email_state": "sent",
        "confirmed": True,
        "cancelled": False,
        "reminder_date": "2026-01-05T15:30:00+00:00",
        "attempt": 1,
        "voice": True,
        "sms": True,
        "email": True,
        "event_log": [
            {"at": "2026-01-04T15:30:00+00:00", "channel": "sms", "result": "delivered"},
            {"at": "2026-01-04T15:31:10+00:00", "channel": "sms", "result": "confirmed"},
        ],
    },
    # The doc's sample, its quirk included: the caller's name is in "caller_nname".
    "call_alert": {
        "uuid": "5bab4386-14a6-46ea-b200-6e47a91837cb",
        "created_at": "1709075290020813",
        "callback_id": 99,
        "domain_name": "customer.ringrx.com",
        "originally_dialed_number": "+18885439876",
        "dialed_number": "8000",
        "caller_number": "+18185551234",
        "caller_nname": "Dr Smith",
        "tags": "inbound,reception_queue",
        "dialed_user_emails": "ssmith@gmail.us,jjones@hotmail.us",
        "dialed_users": "ssmith,jjones",
    },
}


@dataclass(frozen=True)
class EventFile:
    """The file a voicemail or fax event carries."""

    content: bytes
    content_type: str


def sample_payload(event_type: str) -> dict[str, Any]:
    """A fresh copy of the sample event of ``event_type`` (a ``KeyError`` for unknown types)."""
    return copy.deepcopy(_SAMPLES[event_type])


def sample_file(event_type: str) -> EventFile:
    """A small but well-formed file: a WAV of silence (voicemail) or a one-page PDF (fax)."""
    if event_type == "voicemail":
        rate, samples = 8000, 80  # 10 ms: small enough to print in a curl command
        data = b"\x00\x00" * samples
        header = b"RIFF" + struct.pack("<I", 36 + len(data)) + b"WAVEfmt "
        header += struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16)
        return EventFile(header + b"data" + struct.pack("<I", len(data)) + data, "audio/wav")
    pdf = (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
        b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]>>endobj\n"
        b"trailer<</Root 1 0 R>>\n%%EOF\n"
    )
    return EventFile(pdf, "application/pdf")
