"""Statistics for assessment scores: numpy and scipy only (no Flask, SQLAlchemy or pandas).

Ratings are shaped ``(units, raters)`` with NaN for a missing cell, everywhere.
"""

from evalsurvey.stats.anomalies import (
    RATER_REASONS,
    RESPONSE_REASONS,
    SUSPECT_RATER_REASONS,
    SUSPECT_RESPONSE_REASONS,
    Flags,
    RaterReport,
    bursts,
    duplicates,
    network_repeats,
    outliers,
    rater_flags,
    speeders,
    straightliners,
    usual_rates,
)
from evalsurvey.stats.raters import RaterEffects, rater_effects
from evalsurvey.stats.reliability import (
    ICCResult,
    KendallWResult,
    icc,
    kendall_w,
    krippendorff_alpha,
)
from evalsurvey.stats.scores import (
    MeanInterval,
    mean_interval,
    shared_ranks,
    to_percent,
    trimmed_mean,
    wilson_interval,
)
from evalsurvey.stats.surges import (
    DISTINCT_ALPHA,
    SURGE_ALPHA,
    SUSPECT_POSTERIOR,
    BoundedScores,
    Surge,
    Suspicion,
    bounded_scores,
    surge_suspicion,
)
from evalsurvey.stats.weighting import (
    AHPResult,
    CombineResult,
    ahp_weights,
    combine,
    entropy_weights,
)

__all__ = [
    "BoundedScores",
    "DISTINCT_ALPHA",
    "SURGE_ALPHA",
    "SUSPECT_POSTERIOR",
    "Surge",
    "Suspicion",
    "bounded_scores",
    "surge_suspicion",
    "AHPResult",
    "CombineResult",
    "Flags",
    "ICCResult",
    "KendallWResult",
    "MeanInterval",
    "RATER_REASONS",
    "RESPONSE_REASONS",
    "RaterEffects",
    "RaterReport",
    "SUSPECT_RATER_REASONS",
    "SUSPECT_RESPONSE_REASONS",
    "ahp_weights",
    "bursts",
    "usual_rates",
    "network_repeats",
    "combine",
    "duplicates",
    "entropy_weights",
    "icc",
    "kendall_w",
    "krippendorff_alpha",
    "mean_interval",
    "outliers",
    "rater_effects",
    "rater_flags",
    "shared_ranks",
    "speeders",
    "straightliners",
    "to_percent",
    "trimmed_mean",
    "wilson_interval",
]
