"""Pure domain logic: vocabularies, evidence levels, dose arithmetic. No I/O, no web, no database."""
