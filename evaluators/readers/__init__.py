"""How predictions are read for scoring: each family's submission format (flow files, MIDV JSONL, score and
window CSVs, lm-eval sample logs), decoded and checked sample by sample, for the evaluators and the baselines."""
