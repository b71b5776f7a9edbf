"""What other features read of scoring: a cluster-year's standings (the year sheet, votes and
awards rank by them). Scoring itself lives in `framework`, `sheets` and `standings`."""

from app.scoring.standings import current_standings, rank_of, standings_at

__all__ = ["current_standings", "rank_of", "standings_at"]
