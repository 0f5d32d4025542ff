"""The scheduler: the one adapter to ``fsrs`` and learner days counted from the rollover hour."""
