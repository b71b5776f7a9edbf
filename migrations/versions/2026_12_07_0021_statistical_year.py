"""A cluster-year's reporting period: the covenant's own, and the default as dated data (issue 21, item 3).

`covenants` gains `period_start` and `period_end`, the reporting period a covenant states for its
targets: both or neither (null: not stated), ordered, at most 366 days, its first or last day in
the covenant's year. Nullable: no existing covenant states one, and nothing is rewritten.

`reporting_period_rules` holds the default reporting period over spans of years, with its basis
and how sure we are of it (`data/reference/reporting_periods.yaml`, loaded with the reference
data: the statistical year, 15 December of the year before to 14 December, from 2019): year Y's
period starts on `first_month`/`first_day` of the year Y - `years_before` and ends the day before
that day a year later. Versioned like the rule sets; spans never overlap (an exclusion on
`int4range`, which needs no extension).

Every name is spelled as `app.core.naming` names it.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COVENANT_CHECKS = {
    "covenants_period_both_or_neither": "(period_start IS NULL) = (period_end IS NULL)",
    "covenants_period_ordered": "period_start <= period_end",
    "covenants_period_at_most_366_days": "period_end - period_start < 366",
    "covenants_period_in_year": "year IN (EXTRACT(YEAR FROM period_start), EXTRACT(YEAR FROM period_end))",
}


def upgrade() -> None:
    op.add_column("covenants", sa.Column("period_start", sa.Date(), nullable=True))
    op.add_column("covenants", sa.Column("period_end", sa.Date(), nullable=True))
    for name, condition in _COVENANT_CHECKS.items():
        op.create_check_constraint(name, "covenants", condition)
    op.create_table(
        "reporting_period_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=60), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("first_year", sa.Integer(), nullable=False),
        sa.Column("last_year", sa.Integer(), nullable=True),
        sa.Column("first_month", sa.Integer(), nullable=False),
        sa.Column("first_day", sa.Integer(), nullable=False),
        sa.Column("years_before", sa.Integer(), nullable=False),
        sa.Column("confidence", sa.String(length=10), nullable=False),
        sa.Column("basis", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("recorded_by", sa.String(length=160), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name="reporting_period_rules_pkey"),
        sa.UniqueConstraint("code", name="reporting_period_rules_code_key"),
        sa.CheckConstraint(
            "first_year BETWEEN 2000 AND 2100", name="reporting_period_rules_first_year_plausible"
        ),
        sa.CheckConstraint(
            "last_year IS NULL OR first_year <= last_year", name="reporting_period_rules_years_ordered"
        ),
        sa.CheckConstraint(
            "first_month BETWEEN 1 AND 12 AND first_day >= 1 AND first_day <= CASE WHEN first_month = 2 "
            "THEN 28 WHEN first_month IN (4, 6, 9, 11) THEN 30 ELSE 31 END",
            name="reporting_period_rules_first_day_exists",
        ),
        sa.CheckConstraint("years_before IN (0, 1)", name="reporting_period_rules_years_before_known"),
        sa.CheckConstraint(
            "confidence IN ('text', 'analogue', 'practice', 'unknown')",
            name="reporting_period_rules_confidence_known",
        ),
        sa.CheckConstraint("jsonb_typeof(basis) = 'array'", name="reporting_period_rules_basis_is_list"),
        postgresql.ExcludeConstraint(
            (sa.text("int4range(first_year, last_year, '[]')"), "&&"),
            using="gist",
            name="reporting_period_rules_no_overlap",
        ),
    )


def downgrade() -> None:
    op.drop_table("reporting_period_rules")
    for name in reversed(_COVENANT_CHECKS):
        op.drop_constraint(name, "covenants", type_="check")
    op.drop_column("covenants", "period_end")
    op.drop_column("covenants", "period_start")
