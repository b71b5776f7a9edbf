"""One naming convention for constraints and indexes (`app.core.naming`): the 91 checks the
models named bare (`role_known`) take their table's name before theirs (`api_keys_role_known`),
and the 20 indexes SQLAlchemy named `ix_<table>_<column>` are named as PostgreSQL names an index,
`<table>_<column>_idx`. Keys, unique and foreign-key constraints already had PostgreSQL's own
names, and the exclusion constraints, the named indexes and one check their table's: unchanged.

Renaming takes a brief lock on each table and rewrites no data. A violated check's name is what
a problem's `constraint` member shows a client.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHECKS: tuple[tuple[str, str, str], ...] = (
    # (table, name before, name after)
    ("api_keys", "cluster_scope", "api_keys_cluster_scope"),
    ("api_keys", "role_known", "api_keys_role_known"),
    ("api_keys", "unit_scope", "api_keys_unit_scope"),
    ("award_documents", "document_sha256_format", "award_documents_document_sha256_format"),
    ("award_documents", "document_size_matches", "award_documents_document_size_matches"),
    (
        "award_dossier_items",
        "dossier_item_document_or_reference",
        "award_dossier_items_dossier_item_document_or_reference",
    ),
    (
        "award_transitions",
        "transition_first_has_no_origin",
        "award_transitions_transition_first_has_no_origin",
    ),
    ("award_transitions", "transition_position_positive", "award_transitions_transition_position_positive"),
    ("award_transitions", "transition_status_known", "award_transitions_transition_status_known"),
    ("award_types", "approval_class_known", "award_types_approval_class_known"),
    ("award_types", "award_kind_known", "award_types_award_kind_known"),
    ("award_types", "award_level_known", "award_types_award_level_known"),
    ("award_types", "award_recipient_known", "award_types_award_recipient_known"),
    ("award_types", "award_type_rules_is_list", "award_types_award_type_rules_is_list"),
    ("awards", "award_rule_checks_is_list", "awards_award_rule_checks_is_list"),
    ("awards", "award_status_known", "awards_award_status_known"),
    ("awards", "award_year_plausible", "awards_award_year_plausible"),
    ("clusters", "number_positive", "clusters_number_positive"),
    ("clusters", "rotation_custom_known", "clusters_rotation_custom_known"),
    ("covenant_targets", "basis_known", "covenant_targets_basis_known"),
    ("covenant_targets", "comparator_known", "covenant_targets_comparator_known"),
    ("covenant_targets", "scope_known", "covenant_targets_scope_known"),
    ("covenant_targets", "target_position_positive", "covenant_targets_target_position_positive"),
    ("covenants", "covenant_year_plausible", "covenants_covenant_year_plausible"),
    ("covenants", "key_contents_is_list", "covenants_key_contents_is_list"),
    ("figure_sets", "period_ordered", "figure_sets_period_ordered"),
    ("figure_sets", "year_plausible", "figure_sets_year_plausible"),
    ("figure_values", "non_negative", "figure_values_non_negative"),
    ("figure_values", "value_or_parts", "figure_values_value_or_parts"),
    ("leaderships", "leader_is_not_deputy", "leaderships_leader_is_not_deputy"),
    ("leaderships", "year_plausible", "leaderships_year_plausible"),
    ("memberships", "period_ordered", "memberships_period_ordered"),
    ("memberships", "precision_known", "memberships_precision_known"),
    ("metrics", "key_format", "metrics_key_format"),
    ("metrics", "kind_known", "metrics_kind_known"),
    ("metrics", "parts_differ", "metrics_parts_differ"),
    ("metrics", "rate_has_parts", "metrics_rate_has_parts"),
    ("metrics", "unit_of_measure_known", "metrics_unit_of_measure_known"),
    ("proceedings", "proceeding_kind_known", "proceedings_proceeding_kind_known"),
    ("proceedings", "proceeding_period_ordered", "proceedings_proceeding_period_ordered"),
    ("reported_figure_sets", "reported_year_plausible", "reported_figure_sets_reported_year_plausible"),
    ("reported_figures", "figure_kind_known", "reported_figures_figure_kind_known"),
    ("reported_figures", "figure_period_ordered", "reported_figures_figure_period_ordered"),
    ("reported_figures", "figure_position_positive", "reported_figures_figure_position_positive"),
    ("reported_figures", "figure_unit_of_measure_known", "reported_figures_figure_unit_of_measure_known"),
    ("reported_figures", "only_changes_are_negative", "reported_figures_only_changes_are_negative"),
    ("reported_figures", "qualifier_known", "reported_figures_qualifier_known"),
    ("rule_sets", "rule_set_basis_is_list", "rule_sets_rule_set_basis_is_list"),
    ("rule_sets", "rule_set_parameters_is_object", "rule_sets_rule_set_parameters_is_object"),
    ("rule_sets", "rule_set_period_ordered", "rule_sets_rule_set_period_ordered"),
    ("score_items", "points_non_negative", "score_items_points_non_negative"),
    ("scorers", "scorer_kind_known", "scorers_scorer_kind_known"),
    ("scorers", "scorer_position_positive", "scorers_scorer_position_positive"),
    ("scorers", "weight_positive", "scorers_weight_positive"),
    ("scoring_classes", "class_position_positive", "scoring_classes_class_position_positive"),
    ("scoring_classes", "min_points_non_negative", "scoring_classes_min_points_non_negative"),
    ("scoring_criteria", "criterion_kind_known", "scoring_criteria_criterion_kind_known"),
    ("scoring_criteria", "criterion_position_positive", "scoring_criteria_criterion_position_positive"),
    ("scoring_criteria", "max_points_positive", "scoring_criteria_max_points_positive"),
    ("scoring_frameworks", "combination_known", "scoring_frameworks_combination_known"),
    ("scoring_frameworks", "scoring_year_plausible", "scoring_frameworks_scoring_year_plausible"),
    (
        "scoring_frameworks",
        "standings_version_counts_framework",
        "scoring_frameworks_standings_version_counts_framework",
    ),
    ("scoring_frameworks", "tie_break_known", "scoring_frameworks_tie_break_known"),
    ("scoring_frameworks", "tie_break_order_is_list", "scoring_frameworks_tie_break_order_is_list"),
    ("standings_freezes", "freeze_number_positive", "standings_freezes_freeze_number_positive"),
    ("standings_freezes", "thaw_recorded_whole", "standings_freezes_thaw_recorded_whole"),
    ("successions", "kind_known", "successions_kind_known"),
    ("successions", "not_self", "successions_not_self"),
    ("unit_aliases", "search_key_present", "unit_aliases_search_key_present"),
    ("units", "kind_known", "units_kind_known"),
    ("units", "period_ordered", "units_period_ordered"),
    ("units", "search_key_present", "units_search_key_present"),
    ("vote_ballot_boxes", "vote_ballots_not_negative", "vote_ballot_boxes_vote_ballots_not_negative"),
    ("vote_ballot_boxes", "vote_ballots_sealed_counted", "vote_ballot_boxes_vote_ballots_sealed_counted"),
    ("vote_candidates", "vote_candidate_checks_is_list", "vote_candidates_vote_candidate_checks_is_list"),
    (
        "vote_candidates",
        "vote_candidate_position_positive",
        "vote_candidates_vote_candidate_position_positive",
    ),
    (
        "vote_participations",
        "vote_participation_method_known",
        "vote_participations_vote_participation_method_known",
    ),
    ("vote_round_tallies", "vote_tally_not_negative", "vote_round_tallies_vote_tally_not_negative"),
    ("vote_rounds", "vote_round_number_positive", "vote_rounds_vote_round_number_positive"),
    ("vote_rounds", "vote_round_result_when_closed", "vote_rounds_vote_round_result_when_closed"),
    ("vote_rounds", "vote_round_seats_positive", "vote_rounds_vote_round_seats_positive"),
    ("vote_rounds", "vote_round_state_known", "vote_rounds_vote_round_state_known"),
    (
        "vote_sealed_ballots",
        "vote_sealed_ballot_fixed_size",
        "vote_sealed_ballots_vote_sealed_ballot_fixed_size",
    ),
    ("votes", "vote_chair_has_reason", "votes_vote_chair_has_reason"),
    ("votes", "vote_chair_reason_known", "votes_vote_chair_reason_known"),
    ("votes", "vote_held_after_year_began", "votes_vote_held_after_year_began"),
    ("votes", "vote_parameters_is_object", "votes_vote_parameters_is_object"),
    ("votes", "vote_round_positive", "votes_vote_round_positive"),
    ("votes", "vote_seats_positive", "votes_vote_seats_positive"),
    ("votes", "vote_state_known", "votes_vote_state_known"),
    ("votes", "vote_year_plausible", "votes_vote_year_plausible"),
)

INDEXES: tuple[tuple[str, str], ...] = (
    # (name before, name after)
    ("ix_award_documents_award_id", "award_documents_award_id_idx"),
    ("ix_award_dossier_items_transition_id", "award_dossier_items_transition_id_idx"),
    ("ix_awards_award_type", "awards_award_type_idx"),
    ("ix_awards_cluster_id", "awards_cluster_id_idx"),
    ("ix_awards_unit_id", "awards_unit_id_idx"),
    ("ix_awards_vote_id", "awards_vote_id_idx"),
    ("ix_covenant_targets_metric_id", "covenant_targets_metric_id_idx"),
    ("ix_covenants_host_unit_id", "covenants_host_unit_id_idx"),
    ("ix_figure_sets_unit_id", "figure_sets_unit_id_idx"),
    ("ix_leaderships_deputy_unit_id", "leaderships_deputy_unit_id_idx"),
    ("ix_leaderships_leader_unit_id", "leaderships_leader_unit_id_idx"),
    ("ix_memberships_cluster_id", "memberships_cluster_id_idx"),
    ("ix_memberships_unit_id", "memberships_unit_id_idx"),
    ("ix_proceedings_unit_id", "proceedings_unit_id_idx"),
    ("ix_reported_figures_metric_id", "reported_figures_metric_id_idx"),
    ("ix_score_sheets_unit_id", "score_sheets_unit_id_idx"),
    ("ix_successions_predecessor_id", "successions_predecessor_id_idx"),
    ("ix_successions_successor_id", "successions_successor_id_idx"),
    ("ix_units_name_folded", "units_name_folded_idx"),
    ("ix_votes_cluster_id", "votes_cluster_id_idx"),
)


def upgrade() -> None:
    for table, before, after in CHECKS:
        op.execute(f"ALTER TABLE {table} RENAME CONSTRAINT {before} TO {after}")
    for before, after in INDEXES:
        op.execute(f"ALTER INDEX {before} RENAME TO {after}")


def downgrade() -> None:
    for before, after in INDEXES:
        op.execute(f"ALTER INDEX {after} RENAME TO {before}")
    for table, before, after in CHECKS:
        op.execute(f"ALTER TABLE {table} RENAME CONSTRAINT {after} TO {before}")
