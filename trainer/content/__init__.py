"""Built-in content: the deck format (parser, lint, writer) and its sync into the database."""
