"""Hostile submissions: a corpus of malicious or malformed submissions, generated at test time (`corpus.py`)."""
