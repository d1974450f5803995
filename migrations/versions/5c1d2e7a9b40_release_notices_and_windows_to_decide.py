"""Release notices in the outbox (their release and centre; a "withdrawn" status for
notices no longer wanted), the window an open authorisation would now have awaiting
an admin's decision, centres added to a release after it was saved, and the email of
whoever made a download (kept when their account is deleted).

Revision ID: 5c1d2e7a9b40
Revises: 3891955b4c49
Create Date: 2026-12-03 17:05:00

"""

from alembic import op
import sqlalchemy as sa

import app.models.types  # custom column types used below


# revision identifiers, used by Alembic.
revision = "5c1d2e7a9b40"
down_revision = "3891955b4c49"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("release_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("centre_id", sa.Integer(), nullable=True))
        batch_op.drop_constraint(batch_op.f("ck_outbox_messages_status_known"), type_="check")
        batch_op.create_check_constraint(
            "status_known", "status IN ('pending', 'sent', 'failed', 'withdrawn')"
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_outbox_messages_release_id_releases"), "releases", ["release_id"], ["id"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_outbox_messages_centre_id_centres"), "centres", ["centre_id"], ["id"]
        )
        batch_op.create_index(
            "ix_outbox_messages_release_centre", ["release_id", "centre_id"], unique=False
        )

    with op.batch_alter_table("authorisations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("review_opens_at", app.models.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column(
                "review_closes_at", app.models.types.UTCDateTime(timezone=True), nullable=True
            )
        )
        batch_op.add_column(sa.Column("review_reason", sa.String(length=500), nullable=True))
        batch_op.create_index("ix_authorisations_review", ["review_reason"], unique=False)

    with op.batch_alter_table("release_centres", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_release_centres_role_known"), type_="check")
        batch_op.create_check_constraint(
            "role_known", "role IN ('chosen', 'left-out', 'added', 'removed')"
        )

    # Who downloaded, kept when their account is deleted.
    with op.batch_alter_table("downloads", schema=None) as batch_op:
        batch_op.add_column(sa.Column("user_email", sa.String(length=254), nullable=True))
    op.execute(
        "UPDATE downloads SET user_email = "
        "(SELECT users.email FROM users WHERE users.id = downloads.user_id)"
    )


def downgrade():
    with op.batch_alter_table("downloads", schema=None) as batch_op:
        batch_op.drop_column("user_email")

    with op.batch_alter_table("release_centres", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_release_centres_role_known"), type_="check")
        batch_op.create_check_constraint("role_known", "role IN ('chosen', 'left-out', 'removed')")

    with op.batch_alter_table("authorisations", schema=None) as batch_op:
        batch_op.drop_index("ix_authorisations_review")
        batch_op.drop_column("review_reason")
        batch_op.drop_column("review_closes_at")
        batch_op.drop_column("review_opens_at")

    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_messages_release_centre")
        batch_op.drop_constraint(
            batch_op.f("fk_outbox_messages_centre_id_centres"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            batch_op.f("fk_outbox_messages_release_id_releases"), type_="foreignkey"
        )
        batch_op.drop_constraint(batch_op.f("ck_outbox_messages_status_known"), type_="check")
        batch_op.create_check_constraint("status_known", "status IN ('pending', 'sent', 'failed')")
        batch_op.drop_column("centre_id")
        batch_op.drop_column("release_id")
