"""The database: engine set-up, models, prepared writes, settings and the shipped resources."""
