"""lm-evaluation-harness tasks for the four PMData Health-LLM tasks (package data; hooks in `hooks`)."""
