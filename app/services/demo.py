"""Demo data for `make run` and for trying the portal: centres, staff and centre users."""

from dataclasses import dataclass

from sqlalchemy import select

from app.extensions import db
from app.models import Centre, User
from app.services import passwords
from app.services.accounts import create_activated_staff, create_centre_user
from app.services.clock import utcnow

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
            user = create_centre_user(centre, officer)
            user.pin = None
            user.password_hash = passwords.hash_password(DEMO_PASSWORD)
            user.activated_at = now
        head = f"head.{number.lower()}@example.com"
        if _user(head) is None:
            create_centre_user(centre, head)
    db.session.flush()
    return demo_sign_ins()


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
