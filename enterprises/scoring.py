"""科创积分 service: computes the scores of enterprises.score from the database and stores them.

(Stub: the score issue's work fills this in; callers may already call these.)"""

from __future__ import annotations


def score_recompute_later(enterprise) -> None:
    """Ask for the firm's stage cohort to be re-scored after the current transaction commits."""
