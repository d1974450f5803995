"""Demo data for `make run` and for trying the portal: centres, staff, centre users, and a
series's key times, timetable and entries."""

import hashlib
import random
import tempfile
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import insert, select

from app.extensions import db
from app.models import Centre, Entry, KeyTime, Release, Resource, ResourceFile, TimetableSlot, User
from app.models.user import new_session_token
from app.services import geography
from app.services.accounts import passwords
from app.services.accounts.pins import generate_pin
from app.services.accounts.users import add_centre_user, create_activated_staff
from app.services.clock import utcnow
from app.services.releases.planning import plan_release, save_release
from app.services.releases.windows import WindowRule
from app.services.resources.catalogue import record_download
from app.services.resources.storage import Storage
from app.services.text import search_key
from app.services.timetable.checks import refresh_key_time_errors

DEMO_PASSWORD = "portal-demo-2026"  # noqa: S105  (printed for the demo; never in production)
DEMO_ADMIN = "admin@example.com"
DEMO_PRODUCER = "producer@example.com"

# number, name, country, town, time zone, zone
DEMO_CENTRES = (
    ("GB101", "Hillside Academy", "GB", "London", "Europe/London", 3),
    ("GB102", "St Aldhelm's School", "GB", "Bristol", "Europe/London", 3),
    ("GB199", "Riverside College (closed)", "GB", "Leeds", "Europe/London", 3),
    ("ES201", "Colegio Internacional Peñalara", "ES", "Madrid", "Europe/Madrid", 3),
    ("EG202", "Nile Valley Language School", "EG", "Cairo", "Africa/Cairo", 3),
    ("NG203", "Lagoon Heights College", "NG", "Lagos", "Africa/Lagos", 3),
    ("IN301", "Delhi Public School – Rohini", "IN", "New Delhi", "Asia/Kolkata", 4),
    ("IN302", "Vidyashilp Academy", "IN", "Bengaluru", "Asia/Kolkata", 4),
    ("IN303", "Sri Kumaran Children's Home", "IN", "Bengaluru", "Asia/Kolkata", 4),
    ("PK304", "Ravi Grammar School", "PK", "Lahore", "Asia/Karachi", 4),
    ("AE305", "Al Noor International School", "AE", "Dubai", "Asia/Dubai", 4),
    ("MU306", "Collège du Soleil", "MU", "Port Louis", "Indian/Mauritius", 4),
    ("SG401", "Marina Bay International School", "SG", "Singapore", "Asia/Singapore", 5),
    ("CN402", "Pudong Bilingual School", "CN", "Shanghai", "Asia/Shanghai", 5),
    ("JP501", "Sakura International School", "JP", "Tokyo", "Asia/Tokyo", 6),
    ("NZ502", "Kōwhai College", "NZ", "Auckland", "Pacific/Auckland", 6),
    ("US601", "Lakeview High School", "US", "Chicago", "America/Chicago", 1),
    ("US602", "Hudson Valley Academy", "US", "New York", "America/New_York", 1),
    (
        "AR701",
        "Colegio San Martín de los Andes",
        "AR",
        "Buenos Aires",
        "America/Argentina/Buenos_Aires",
        2,
    ),
    ("BR702", "Escola Internacional São Paulo", "BR", "São Paulo", "America/Sao_Paulo", 2),
)
DELETED_CENTRES = {"GB199"}


# A series in the future, with key times for most demo countries (none for Brazil,
# so Key Time Errors shows something), a timetable and entries for every live centre.
DEMO_SERIES = "2027-06"
# country, time zone ("" = whole country), AM, PM, published AM GMT
DEMO_KEY_TIMES = (
    ("GB", "", "09:00", "13:30", "08:00"),
    ("ES", "", "09:00", "13:30", None),
    ("EG", "", "09:00", "13:30", None),
    ("NG", "", "09:00", "13:30", None),
    ("IN", "", "10:30", "14:30", "05:00"),
    ("PK", "", "10:00", "14:00", None),
    ("AE", "", "09:00", "13:30", None),
    ("MU", "", "09:00", "13:30", None),
    ("SG", "", "08:00", "13:00", None),
    ("CN", "", "08:00", "13:00", None),
    ("JP", "", "08:00", "13:00", None),
    ("NZ", "", "08:30", "13:00", None),
    ("US", "America/New_York", "08:00", "12:30", None),
    ("US", "America/Chicago", "08:00", "12:30", None),
    ("AR", "", "08:00", "12:30", None),
)
# syllabus, component, date, session, minutes, zones
DEMO_TIMETABLE = (
    ("0580", "22", date(2027, 5, 4), "AM", 90, ""),
    ("0580", "42", date(2027, 5, 11), "PM", 150, ""),
    ("0500", "12", date(2027, 5, 6), "AM", 120, ""),
    ("9093", "12", date(2027, 5, 13), "AM", 75, "45"),
)


@dataclass(frozen=True)
class DemoSignIn:
    role: str
    email: str
    note: str


def seed_demo() -> list[DemoSignIn]:
    """Create whatever demo data is missing; leave what exists as it is. Flushes only.

    Each centre gets an activated exams officer (exams.NUMBER@example.com) and a
    second user still waiting to activate with a PIN (head.NUMBER@example.com).
    """
    now = utcnow()
    for email, role in ((DEMO_ADMIN, "admin"), (DEMO_PRODUCER, "tp")):
        if _user(email) is None:
            create_activated_staff(email, DEMO_PASSWORD, role=role)

    existing = {c.number: c for c in db.session.scalars(select(Centre))}
    for number, name, country, town, timezone, zone in DEMO_CENTRES:
        centre = existing.get(number)
        if centre is None:
            centre = Centre(
                number=number,
                name=name,
                country=country,
                town=town,
                timezone=timezone,
                zone=zone,
                deleted_at=now if number in DELETED_CENTRES else None,
            )
            db.session.add(centre)
            db.session.flush()
        officer = f"exams.{number.lower()}@example.com"
        if _user(officer) is None:
            user = add_centre_user(centre, officer)
            user.pin = None
            user.password_hash = passwords.hash_password(DEMO_PASSWORD)
            user.activated_at = now
        head = f"head.{number.lower()}@example.com"
        if _user(head) is None:
            add_centre_user(centre, head)
    db.session.flush()
    _seed_timetable()
    return demo_sign_ins()


def _seed_timetable() -> None:
    """The demo series' key times, timetable and entries, if it has none yet."""
    if db.session.scalar(select(TimetableSlot.id).where(TimetableSlot.series == DEMO_SERIES)):
        return
    for country, timezone, am, pm, am_gmt in DEMO_KEY_TIMES:
        db.session.add(
            KeyTime(
                series=DEMO_SERIES, country=country, timezone=timezone, am=am, pm=pm, am_gmt=am_gmt
            )
        )
    for syllabus, component, day, session, minutes, zones in DEMO_TIMETABLE:
        db.session.add(
            TimetableSlot(
                series=DEMO_SERIES,
                syllabus=syllabus,
                component=component,
                exam_date=day,
                session=session,
                duration_minutes=minutes,
                zones=zones,
            )
        )
    live = db.session.scalars(
        select(Centre).where(
            Centre.deleted_at.is_(None), Centre.number.in_([c[0] for c in DEMO_CENTRES])
        )
    )
    for centre in live:
        for syllabus, component, *_rest, zones in DEMO_TIMETABLE:
            if not zones or str(centre.zone) in zones:
                db.session.add(
                    Entry(
                        series=DEMO_SERIES,
                        centre_id=centre.id,
                        syllabus=syllabus,
                        component=component,
                    )
                )
    db.session.flush()
    refresh_key_time_errors(DEMO_SERIES)


def demo_sign_ins() -> list[DemoSignIn]:
    waiting = _user("head.in301@example.com")
    return [
        DemoSignIn("admin", DEMO_ADMIN, f"password {DEMO_PASSWORD}"),
        DemoSignIn("tp", DEMO_PRODUCER, f"password {DEMO_PASSWORD}"),
        DemoSignIn(
            "centre", "exams.in301@example.com", f"password {DEMO_PASSWORD} (IN301, Asia/Kolkata)"
        ),
        DemoSignIn(
            "centre",
            "exams.us601@example.com",
            f"password {DEMO_PASSWORD} (US601, America/Chicago)",
        ),
        DemoSignIn(
            "centre",
            "exams.gb199@example.com",
            f"password {DEMO_PASSWORD} (GB199, a deleted centre)",
        ),
        DemoSignIn(
            "centre",
            waiting.email,
            f"not activated yet, PIN {waiting.pin}" if waiting and waiting.pin else "activated",
        ),
    ]


def _user(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == email))


# For `seed-demo --centres N`: a realistic board at scale, generated deterministically.
SCALE_NAME_STARTS = (
    "Greenfield",
    "St Mary's",
    "Al Noor",
    "Sakura",
    "Kōwhai",
    "São Bento",
    "Nuestra Señora",
    "Saint-Exupéry",
    "Łazienki",
    "Øresund",
    "Đà Lạt",
    "Riverside",
    "Hillcrest",
    "Cedar",
    "Bright Future",
    "Sunrise",
    "Crescent",
    "Beacon",
    "Lakeside",
    "Zürichsee",
    "Ñandú",
    "Mountbatten",
    "Jacaranda",
    "Baobab",
    "Mirembe",
    "Al Ain",
    "Pembroke",
    "Vidya Niketan",
    "Nalanda",
    "Darul Uloom",
    "Kingsway",
    "Victoria",
    "Ørsted",
    "Çamlıca",
    "Ἀκαδημία",
)
SCALE_NAME_KINDS = (
    "International School",
    "Academy",
    "College",
    "High School",
    "Grammar School",
    "Secondary School",
    "Colegio",
    "Escola",
    "École",
    "Lycée",
    "Gymnasium",
    "Sekolah",
    "Okulu",
    "Škola",
    "Istituto",
    "Public School",
    "Model School",
)
SCALE_NUMBER_DIGITS = 5  # generated numbers look like IN00042; the fixed demo set uses 3


def _admin_zone(longitude: float) -> int:
    """Demo administrative zones: six bands of longitude, west to east."""
    for zone, edge in enumerate((-80, -30, 30, 80, 115), start=1):
        if longitude < edge:
            return zone
    return 6


def _scale_places() -> list[tuple[str, str, str, int]]:
    """(country, town, time zone, admin zone) for every zone in the tz database."""
    places = []
    for code, coordinates, zone, *_ in geography.zone_table():
        # ISO 6709: ±DDMM[SS] latitude, then ±DDDMM[SS] longitude.
        split = next(i for i in range(1, len(coordinates)) if coordinates[i] in "+-")
        degrees = int(coordinates[split : split + 4])
        town = zone.rsplit("/", 1)[-1].replace("_", " ")
        places.append((code, town, zone, _admin_zone(degrees)))
    return places


def seed_scale(centres: int, *, seed: int = 2026) -> tuple[int, int]:
    """Add generated centres (1–5 users each) until there are `centres` of them.

    Bulk inserts, so 10,000 centres and ~30,000 users take seconds. Numbers are
    the country code and five digits; running it again adds only what is
    missing. Returns (centres added, users added).
    """
    rng = random.Random(seed)  # noqa: S311  (demo data, not secrets)
    places = _scale_places()
    now = utcnow()
    demo_hash = passwords.hash_password(DEMO_PASSWORD)
    existing = set(db.session.scalars(select(Centre.number)))
    taken_pins = set(db.session.scalars(select(User.pin).where(User.pin.is_not(None))))
    taken_emails = set(db.session.scalars(select(User.email)))

    new_centres = []
    for index in range(1, centres + 1):
        country, town, timezone, zone = places[rng.randrange(len(places))]
        name = f"{rng.choice(SCALE_NAME_STARTS)} {rng.choice(SCALE_NAME_KINDS)}, {town}"
        number = f"{country}{index:0{SCALE_NUMBER_DIGITS}d}"
        users = rng.randint(1, 5)
        if number in existing:
            continue
        new_centres.append(
            {
                "number": number,
                "name": name,
                "country": country,
                "town": town,
                "timezone": timezone,
                "zone": zone,
                "created_at": now,
                "updated_at": now,
                "search_key": search_key(number, name, town),
                "_users": users,
            }
        )
    if not new_centres:
        return 0, 0
    db.session.execute(
        insert(Centre), [{k: v for k, v in c.items() if k != "_users"} for c in new_centres]
    )
    ids = dict(db.session.execute(select(Centre.number, Centre.id)).all())

    new_users = []
    for centre in new_centres:
        for n in range(1, centre["_users"] + 1):
            email = f"officer{n}.{centre['number'].lower()}@example.com"
            if email in taken_emails:
                continue
            activated = n == 1 and rng.random() < 0.6
            pin = None
            if not activated:
                pin = generate_pin()
                while pin in taken_pins:
                    pin = generate_pin()
                taken_pins.add(pin)
            new_users.append(
                {
                    "email": email,
                    "role": "centre",
                    "centre_id": ids[centre["number"]],
                    "pin": pin,
                    "password_hash": demo_hash if activated else None,
                    "activated_at": now if activated else None,
                    "last_login_at": now - timedelta(hours=rng.randint(1, 2000))
                    if activated
                    else None,
                    "failed_logins": 0,
                    "session_token": new_session_token(),
                    "created_at": now,
                    "updated_at": now,
                }
            )
    db.session.execute(insert(User), new_users)
    return len(new_centres), len(new_users)


DEMO_RELEASE_TITLE = "Pre-release material 0500, open now (demo)"
DEMO_PRE_RELEASE = (
    b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj % demo pre-release material 0500\n"
    b"trailer << /Root 1 0 R >>\n%%EOF\n"
)


def seed_demo_release(storage: Storage) -> Release | None:
    """A release whose window is open now, so that a centre's Home, Manage Releases and
    the Audit Reports have something to show: pre-release material for 0500 to every
    live centre, open from yesterday for 30 days, already downloaded by the exams
    officers of every other demo centre. Nothing if it exists. Flushes only."""
    if db.session.scalar(select(Release.id).where(Release.title == DEMO_RELEASE_TITLE)):
        return None
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "pre-release.pdf"
        source.write_bytes(DEMO_PRE_RELEASE)
        stored_name = storage.keep(source, "pdf")
    resource = Resource(
        series=DEMO_SERIES, syllabus="0500", component="12", kind="pre-release",
        title="Pre-release material 0500/12",
    )  # fmt: skip
    resource.files.append(
        ResourceFile(
            number=1,
            original_name="0500_s27_pm_12.pdf",
            stored_name=stored_name,
            size=len(DEMO_PRE_RELEASE),
            sha256=hashlib.sha256(DEMO_PRE_RELEASE).hexdigest(),
            media_type="application/pdf",
        )
    )
    db.session.add(resource)
    db.session.flush()
    now = utcnow().replace(microsecond=0)
    rule = WindowRule(opens_at=now - timedelta(days=1), closes_at=now + timedelta(days=30))
    release = save_release(
        plan_release(DEMO_SERIES, [resource.id], "all", rule),
        title=DEMO_RELEASE_TITLE,
        actor_id=None,
    )
    officers = db.session.scalars(
        select(User)
        .join(Centre, Centre.id == User.centre_id)
        .where(
            Centre.number.in_([c[0] for c in DEMO_CENTRES[::2]]),
            Centre.deleted_at.is_(None),
            User.email.startswith("exams."),
        )
        .order_by(Centre.number)
    )
    for n, officer in enumerate(officers):
        record_download(
            resource.files[0], officer, ip=f"203.0.113.{n + 10}", user_agent="Demo browser",
            range_header=None, release_id=release.id,
        )  # fmt: skip
    db.session.flush()
    return release
