"""Scoring a submission against its benchmark: the registry's names turned into objects (`wiring`), where an
evaluator's map runs (`executors`) and the result bundle that lets anyone check the figures (`bundle`)."""
