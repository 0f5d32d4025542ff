"""trainer: a spaced-repetition trainer for the Python/Django backend roadmap."""

__version__ = "0.1.0"
