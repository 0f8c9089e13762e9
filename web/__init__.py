"""Flask-level pieces of the web tier: the login gate, login/logout, health and downloads."""
