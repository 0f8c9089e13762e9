"""Filter lists: normalisation (normalize.py), team-wide lists and their imports (lists.py), and
applying a project's lists as a job that records passed/failed with reasons (apply.py)."""
