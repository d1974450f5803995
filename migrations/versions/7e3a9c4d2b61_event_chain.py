"""The Event Logs made tamper-evident and append-only at the database: each event's
place in a hash chain (seq) and hash, worked out for the events already there;
triggers that refuse UPDATE and DELETE on events (and TRUNCATE on PostgreSQL);
indexes for the Event Logs' filters, the Audit Reports by release and by resource,
the resources chooser's download counts, and the admin's Home's downloads in the last
24 hours.

Revision ID: 7e3a9c4d2b61
Revises: 5c1d2e7a9b40
Create Date: 2026-12-03 19:00:00

"""

from alembic import op
import sqlalchemy as sa

# The chain's canonical form and the triggers are defined once, in the app: a hash
# must be worked out exactly as `flask events verify` will check it.
from app.services import event_chain


# revision identifiers, used by Alembic.
revision = "7e3a9c4d2b61"
down_revision = "5c1d2e7a9b40"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("seq", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("hash", sa.String(length=64), nullable=True))

    connection = op.get_bind()
    events = sa.table(
        "events",
        sa.column("id", sa.Integer),
        sa.column("at", sa.DateTime(timezone=True)),
        sa.column("actor_id", sa.Integer),
        sa.column("actor_email", sa.String),
        sa.column("action", sa.String),
        sa.column("subject_type", sa.String),
        sa.column("subject_id", sa.Integer),
        sa.column("details", sa.JSON),
        sa.column("ip", sa.String),
        sa.column("seq", sa.BigInteger),
        sa.column("hash", sa.String),
    )
    previous, seq, changes = event_chain.GENESIS, 0, []
    for row in connection.execute(sa.select(events).order_by(events.c.id)).mappings():
        seq += 1
        values = {**row, "seq": seq}
        previous = event_chain.link(previous, values)
        changes.append({"event_id": row["id"], "new_seq": seq, "new_hash": previous})
    if changes:
        connection.execute(
            events.update()
            .where(events.c.id == sa.bindparam("event_id"))
            .values(seq=sa.bindparam("new_seq"), hash=sa.bindparam("new_hash")),
            changes,
        )

    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.alter_column("seq", existing_type=sa.BigInteger(), nullable=False)
        batch_op.alter_column("hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint(batch_op.f("uq_events_seq"), ["seq"])
        batch_op.drop_index(batch_op.f("ix_events_actor_id"))
        batch_op.create_index("ix_events_actor", ["actor_email", "id"], unique=False)
        batch_op.create_index("ix_events_action", ["action", "id"], unique=False)
        batch_op.create_index("ix_events_ip", ["ip", "id"], unique=False)

    with op.batch_alter_table("downloads", schema=None) as batch_op:
        batch_op.create_index(
            "ix_downloads_release_centre", ["release_id", "centre_id", "at"], unique=False
        )
        batch_op.drop_index("ix_downloads_resource_file")
        batch_op.create_index(
            "ix_downloads_resource_file", ["resource_file_id", "at"], unique=False
        )
        batch_op.create_index("ix_downloads_at", ["at"], unique=False)
        batch_op.create_index(
            "ix_downloads_resource_file_status", ["resource_file_id", "status"], unique=False
        )

    # Last: SQLite's batch mode rebuilds the table, which would drop them.
    event_chain.create_triggers(connection)


def downgrade():
    event_chain.drop_triggers(op.get_bind())

    with op.batch_alter_table("downloads", schema=None) as batch_op:
        batch_op.drop_index("ix_downloads_resource_file_status")
        batch_op.drop_index("ix_downloads_at")
        batch_op.drop_index("ix_downloads_resource_file")
        batch_op.create_index("ix_downloads_resource_file", ["resource_file_id"], unique=False)
        batch_op.drop_index("ix_downloads_release_centre")

    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index("ix_events_ip")
        batch_op.drop_index("ix_events_action")
        batch_op.drop_index("ix_events_actor")
        batch_op.create_index(batch_op.f("ix_events_actor_id"), ["actor_id"], unique=False)
        batch_op.drop_constraint(batch_op.f("uq_events_seq"), type_="unique")
        batch_op.drop_column("hash")
        batch_op.drop_column("seq")
