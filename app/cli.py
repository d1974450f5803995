"""Command-line tasks: `flask --app wsgi create-admin EMAIL`, `seed-demo`, `outbox send`,
`resources check`, `events verify`."""

import time

import click
from flask import Flask

from app.extensions import db
from app.services.accounts.addresses import AccountError
from app.services.accounts.password_policy import password_problem
from app.services.accounts.users import create_activated_staff
from app.services.audit import record_event
from app.services.clock import utcnow
from app.services.demo import seed_demo, seed_demo_release, seed_scale
from app.services.email.outbox import send_due
from app.services.email.transport import transport_for
from app.services.event_chain import verify
from app.services.resources.integrity import check_storage
from app.services.resources.storage import Storage
from app.services.transactions import begin_write


def register_cli(app: Flask) -> None:
    @app.cli.command("create-admin")
    @click.argument("email")
    @click.option(
        "--password",
        help="The new admin's password (the sign-in page's rules: at least 12 characters, "
        "not easy to guess). Prompted for when omitted.",
    )
    def create_admin(email: str, password: str | None) -> None:
        """Create an activated admin account that can sign in straight away."""
        if password is None:
            password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
        # The same rules as the activation and reset pages: an admin's password most of all.
        problem = password_problem(
            password,
            min_length=app.config["PASSWORD_MIN_LENGTH"],
            email=email,
            organisation=app.config["ORGANISATION_NAME"],
        )
        if problem:
            raise click.ClickException(problem)
        try:
            user = create_activated_staff(email, password, role="admin")
        except AccountError as error:
            raise click.ClickException(str(error)) from None
        record_event(
            "staff.created", subject=user, details={"role": "admin", "via": "command line"}
        )
        db.session.commit()
        click.echo(f"Created admin {user.email}. They can sign in now.")

    @app.cli.command("seed-demo")
    @click.option(
        "--force",
        is_flag=True,
        help="Seed even though PORTAL_ENV is not development (never on a live portal).",
    )
    @click.option(
        "--centres",
        type=click.IntRange(min=0, max=100_000),
        default=0,
        help="Also generate this many centres with 1-5 users each (e.g. 10000), for trying "
        "the portal at scale.",
    )
    def seed_demo_command(force: bool, centres: int) -> None:
        """Create the demo centres and users (safe to run again) and print the sign-ins."""
        if app.config["ENV_NAME"] not in ("development", "test") and not force:
            raise click.ClickException(
                "seed-demo creates accounts whose password is public. It runs only with "
                "PORTAL_ENV=development (as `make run` sets), or with --force."
            )
        sign_ins = seed_demo()
        seed_demo_release(Storage(app.config["RESOURCE_STORAGE_DIR"]))
        db.session.commit()
        if centres:
            started = time.perf_counter()
            added_centres, added_users = seed_scale(centres)
            db.session.commit()
            click.echo(
                f"Generated {added_centres:,} centres and {added_users:,} users "
                f"in {time.perf_counter() - started:.1f} s."
            )
        click.echo("Demo sign-ins:")
        for sign_in in sign_ins:
            click.echo(f"  {sign_in.role:<7} {sign_in.email:<32} {sign_in.note}")

    @app.cli.group("outbox")
    def outbox_group() -> None:
        """The email outbox."""

    @outbox_group.command("send")
    def outbox_send() -> None:
        """Send the pending emails that are due (run it every minute from cron)."""
        outcome = send_due(transport_for(app), max_attempts=app.config["OUTBOX_MAX_ATTEMPTS"])
        click.echo(f"Sent {outcome.sent}, will retry {outcome.retrying}, failed {outcome.failed}.")

    @app.cli.group("events")
    def events_group() -> None:
        """The Event Logs."""

    @events_group.command("verify")
    @click.option(
        "--head",
        "heads",
        multiple=True,
        metavar="SEQ:HASH",
        help="A head an earlier run printed (kept outside the database): it must still be there.",
    )
    def events_verify(heads: tuple[str, ...]) -> None:
        """Check the Event Logs' hash chain from the first event; name the first broken
        link. Records what it found (the Event Logs page shows it). Exits 1 if broken."""
        known = {}
        for head in heads:
            seq, _, digest = head.partition(":")
            if not seq.isdigit() or len(digest) != 64:
                raise click.BadParameter(f"{head!r} is not SEQ:HASH", param_hint="--head")
            known[int(seq)] = digest.lower()
        started = time.perf_counter()
        found = verify(db.session.connection(), known)
        seconds = time.perf_counter() - started
        begin_write()  # ends the read, then records the result in a transaction of its own
        record_event("events.verified", details=found.details())  # event_chain.VERIFIED
        db.session.commit()
        if found.whole:
            click.echo(
                f"Checked {found.checked:,} events in {seconds:.1f} s: the chain is whole.\n"
                f"Its head (keep it elsewhere; check it later with --head): "
                f"{found.last_seq}:{found.last_hash}"
            )
            return
        click.echo(
            f"The chain is broken at event #{found.broken_at} after {found.checked:,} good "
            f"events: {found.reason}.",
            err=True,
        )
        raise SystemExit(1)

    @app.cli.group("resources")
    def resources_group() -> None:
        """The stored resource files and help documents."""

    @resources_group.command("check")
    @click.option("--hashes", is_flag=True, help="Also read every file and check its SHA-256.")
    @click.option(
        "--remove-strays",
        is_flag=True,
        help="Delete the files no row names (older than an hour), after listing them.",
    )
    def resources_check(hashes: bool, remove_strays: bool) -> None:
        """Check that every kept file is in RESOURCE_STORAGE_DIR, whole, and list the
        files there that nothing names. Exits 1 if anything is wrong."""
        storage = Storage(app.config["RESOURCE_STORAGE_DIR"])
        report = check_storage(storage, utcnow(), hashes=hashes)
        for line in report.problems:
            click.echo(line)
        for name in report.strays:
            click.echo(f"stray file: {name}" + (" (deleted)" if remove_strays else ""))
            if remove_strays:
                (storage.files / name).unlink(missing_ok=True)
        how = "size and SHA-256" if hashes else "size"
        click.echo(
            f"{report.checked:,} kept files checked ({how}): {len(report.problems)} problem(s), "
            f"{len(report.strays)} stray file(s)."
        )
        if report.problems or (report.strays and not remove_strays):
            raise SystemExit(1)
