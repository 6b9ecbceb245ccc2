"""A client developer's first day, with nothing but the Python client that openapi-python-client
generated from openapi/hallway.json: sign in with the emailed code, create an event, import
attendees from a CSV file, fetch the badge PNG, scan a badge online, upload an offline batch, sync
connections by delta, write a note. Run by scripts/clients-check against a live server:

    python flow.py BASE_URL OUTBOX_DIR

Exits non-zero (an AssertionError) at the first step whose answer is not the documented one.
"""

import datetime
import io
import pathlib
import sys
import time
import uuid

from hallway_client import AuthenticatedClient, Client
from hallway_client.api.attendees import import_attendees_csv, join, rotate_join_code
from hallway_client.api.auth import exchange_code, request_code
from hallway_client.api.badges import get_my_badge, get_my_badge_png
from hallway_client.api.connections import add_note, list_connections
from hallway_client.api.events import create_event
from hallway_client.api.scans import scan, scan_batch
from hallway_client.models import (
    AddedNoteResponse,
    BadgeResponse,
    ConnectionPage,
    CreateEventRequest,
    EmailCodeRequest,
    EventResponse,
    ImportReport,
    JoinCodeResponse,
    JoinRequest,
    NoteRequest,
    ProfileResponse,
    ScanBatchRequest,
    ScanBatchResponse,
    ScanRequest,
    ScanResponse,
    ScanStatus,
    TokenRequest,
    TokenResponse,
)
from hallway_client.types import UNSET, File

SUBJECT = "Subject: Your Hallway sign-in code: "


def emailed_code(outbox: pathlib.Path, email: str, seen: set[pathlib.Path]) -> str:
    """The code of the first new email to `email` in the server's outbox (mail is sent by its
    worker, a moment after the request)."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        for path in sorted(set(outbox.glob("*.eml")) - seen):
            text = path.read_text(encoding="utf-8", errors="replace")
            lines = [line.rstrip("\r") for line in text.split("\n")]
            if f"To: {email}" in lines:
                for line in lines:
                    if line.startswith(SUBJECT):
                        return line[len(SUBJECT) :].strip()
        time.sleep(0.1)
    raise AssertionError(f"no sign-in code for {email} in {outbox}")


def sign_in(base_url: str, outbox: pathlib.Path, email: str) -> AuthenticatedClient:
    anonymous = Client(base_url=base_url)
    seen = set(outbox.glob("*.eml"))
    asked = request_code.sync_detailed(client=anonymous, body=EmailCodeRequest(email=email))
    assert asked.status_code == 202, asked
    code = emailed_code(outbox, email, seen)
    tokens = exchange_code.sync(client=anonymous, body=TokenRequest(email=email, code=code))
    assert isinstance(tokens, TokenResponse), tokens
    return AuthenticatedClient(base_url=base_url, token=tokens.access_token)


def badge_code(client: AuthenticatedClient, event_id: uuid.UUID) -> str:
    badge = get_my_badge.sync(event_id, client=client)
    assert isinstance(badge, BadgeResponse), badge
    return badge.code


def main(base_url: str, outbox: pathlib.Path) -> None:
    run = uuid.uuid4().hex[:10]
    org = sign_in(base_url, outbox, f"org-{run}@example.org")
    bob = sign_in(base_url, outbox, f"bob-{run}@example.org")

    pacific = datetime.timezone(datetime.timedelta(hours=-7))
    starts = datetime.datetime(2026, 9, 8, 9, tzinfo=pacific)
    created = create_event.sync(
        client=org,
        body=CreateEventRequest(
            name="RustConf 2026",
            slug=f"flow-{run}",
            starts_at=starts,
            ends_at=starts + datetime.timedelta(days=2, hours=9),
            time_zone="America/Los_Angeles",
        ),
    )
    assert isinstance(created, EventResponse), created
    event_id = uuid.UUID(created.id)

    csv = f"email,name,company\nada-{run}@example.org,Ada Lovelace,Analytical Engines\n"
    csv += f"grace-{run}@example.org,Grace Hopper,\n"
    upload = File(payload=io.BytesIO(csv.encode()), file_name="attendees.csv", mime_type="text/csv")
    report = import_attendees_csv.sync(event_id, client=org, body=upload)
    assert isinstance(report, ImportReport), report
    assert (report.created, report.rejected) == (2, 0), report

    png = get_my_badge_png.sync_detailed(event_id, client=org)
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG\r\n\x1a\n"), png.status_code

    code = rotate_join_code.sync(event_id, client=org)
    assert isinstance(code, JoinCodeResponse), code
    joined = join.sync(event_id, client=bob, body=JoinRequest(join_code=code.join_code))
    assert isinstance(joined, ProfileResponse), joined

    now = datetime.datetime.now(datetime.timezone.utc)
    online = scan.sync(
        event_id,
        client=org,
        body=ScanRequest(client_scan_id=uuid.uuid4(), badge_code=badge_code(bob, event_id), scanned_at=now),
    )
    assert isinstance(online, ScanResponse), online
    assert online.status == ScanStatus.CREATED, online.status

    # Bob's phone was offline: it uploads the scan of the organizer's badge it kept.
    kept = ScanRequest(
        client_scan_id=uuid.uuid4(),
        badge_code=badge_code(org, event_id),
        scanned_at=now - datetime.timedelta(minutes=10),
    )
    batch = scan_batch.sync(event_id, client=bob, body=ScanBatchRequest(scans=[kept]))
    assert isinstance(batch, ScanBatchResponse), batch
    assert [r.status for r in batch.results] in ([ScanStatus.CREATED], [ScanStatus.ALREADY_CONNECTED])

    full = list_connections.sync(event_id, client=bob)
    assert isinstance(full, ConnectionPage), full
    assert len(full.items) == 1 and isinstance(full.sync_token, str), full
    connection_id = uuid.UUID(full.items[0].connection_id)
    note = add_note.sync(event_id, connection_id, client=bob, body=NoteRequest(body="Ask about the import tool."))
    assert isinstance(note, AddedNoteResponse), note

    delta = list_connections.sync(event_id, client=bob, updated_since=full.sync_token)
    assert isinstance(delta, ConnectionPage), delta
    assert [c.connection_id for c in delta.items] == [str(connection_id)], delta
    assert delta.items[0].note_count == 1, delta.items[0]
    assert delta.next_cursor is UNSET, delta.next_cursor
    print(f"python flow: ok against {base_url}")


if __name__ == "__main__":
    main(sys.argv[1], pathlib.Path(sys.argv[2]))
