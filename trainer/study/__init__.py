"""Studying: what to show next (the queue), the review session, and mastery of topics."""
