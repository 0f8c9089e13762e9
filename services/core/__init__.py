"""Infrastructure every domain package builds on: database, Redis, cache, settings, logs,
metrics, embedded servers and migrations. Nothing here imports a domain package."""
