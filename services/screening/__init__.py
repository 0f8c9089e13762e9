"""AI screening: criteria and versioned prompts (prompt.py), the screening job (job.py), and
verdicts with recruiter overrides (results.py)."""
