"""Each centre's figures in a release (first opening, last closing, resources, files
sent and the first of them), kept with what they count for the Audit Reports; worked
out here for the releases already saved.

Revision ID: 9a41c7e2d850
Revises: 7e3a9c4d2b61
Create Date: 2026-12-03 19:30:00

"""

from alembic import op
import sqlalchemy as sa

import app.models.types  # custom column types used below


# revision identifiers, used by Alembic.
revision = "9a41c7e2d850"
down_revision = "7e3a9c4d2b61"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "release_centre_figures",
        sa.Column("release_id", sa.Integer(), nullable=False),
        sa.Column("centre_id", sa.Integer(), nullable=False),
        sa.Column("opens_at", app.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("closes_at", app.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_opens_at", app.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "first_closes_at", app.models.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("resources", sa.Integer(), nullable=False),
        sa.Column("downloads", sa.Integer(), server_default="0", nullable=False),
        sa.Column("first_download_at", app.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("first_download_by", sa.String(length=254), nullable=True),
        sa.ForeignKeyConstraint(
            ["centre_id"],
            ["centres.id"],
            name=op.f("fk_release_centre_figures_centre_id_centres"),
        ),
        sa.ForeignKeyConstraint(
            ["release_id"],
            ["releases.id"],
            name=op.f("fk_release_centre_figures_release_id_releases"),
        ),
        sa.PrimaryKeyConstraint("release_id", "centre_id", name=op.f("pk_release_centre_figures")),
    )
    op.create_index(
        op.f("ix_release_centre_figures_opens_at"), "release_centre_figures", ["opens_at"]
    )
    # The same figures services/releases/figures.py keeps, for every release so far.
    op.execute(
        """
        INSERT INTO release_centre_figures (release_id, centre_id, opens_at, closes_at,
            last_opens_at, first_closes_at, resources, downloads, first_download_at,
            first_download_by)
        SELECT a.release_id, a.centre_id, min(a.opens_at), max(a.closes_at),
            max(a.opens_at), min(a.closes_at), count(*),
            (SELECT count(*) FROM downloads d WHERE d.release_id = a.release_id
                AND d.centre_id = a.centre_id AND d.status = 'sent'),
            (SELECT min(d.at) FROM downloads d WHERE d.release_id = a.release_id
                AND d.centre_id = a.centre_id AND d.status = 'sent'),
            (SELECT d.user_email FROM downloads d WHERE d.release_id = a.release_id
                AND d.centre_id = a.centre_id AND d.status = 'sent'
                ORDER BY d.at, d.id LIMIT 1)
        FROM authorisations a
        GROUP BY a.release_id, a.centre_id
        """
    )


def downgrade():
    op.drop_table("release_centre_figures")
