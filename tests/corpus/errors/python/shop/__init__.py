"""A small shop whose requests fail in the ways real services fail (tests/corpus/errors)."""
