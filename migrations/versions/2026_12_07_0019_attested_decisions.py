"""Historical decisions (issue 21, item 2): an attested award may be recorded in the status its
source states (granted, refused, revoked), its history's first step going there from none with
the decision number and authority null where the source does not state them. A decision
recorded here as it happened (any later step) to grant or revoke names both, as the API has
always required: the database now says so too (`award_transitions_transition_decision_named`),
sparing only a first step, which is a nomination or an attested record's stated outcome.

Adding the check scans `award_transitions` once under a brief lock and rewrites no data; every
row the API wrote meets it.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DECISION_NAMED = (
    "position = 1 OR to_status NOT IN ('granted', 'revoked') "
    "OR (decision_number IS NOT NULL AND authority IS NOT NULL)"
)


def upgrade() -> None:
    op.create_check_constraint(
        "award_transitions_transition_decision_named", "award_transitions", DECISION_NAMED
    )


def downgrade() -> None:
    op.drop_constraint("award_transitions_transition_decision_named", "award_transitions", type_="check")
