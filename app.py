"""SourcingX web application: the Flask server and the Dash app with its pages.

`server` is what gunicorn serves (`gunicorn app:server`). Creating the app opens no pool and no
client: those are created lazily per process, after gunicorn forks its workers.
"""

from __future__ import annotations

import logging

import dash
from dash import Dash
from flask import Flask, has_request_context

from layouts import admin, filters, home, insights, placeholders, profiles, projects, shell
from services.core.logs import configure_logging
from services.core.runtime import export_service_urls, resolve_service_urls
from services.core.settings import PROJECT_ROOT, Settings, get_settings
from web import (
    admin_download,
    downloads,
    health,
    import_download,
    insights_download,
    login,
    observability,
    security,
    shortlist_download,
    webhooks,
)

log = logging.getLogger(__name__)


def _resolved_settings() -> Settings:
    settings = get_settings()
    if settings.database_url and settings.redis_url:
        return settings
    # No configuration: start the embedded servers once here (in the gunicorn master when
    # preloading) and hand their URLs to every process forked from us.
    database_url, redis_url = resolve_service_urls(settings)
    export_service_urls(database_url, redis_url)
    get_settings.cache_clear()
    return get_settings()


def _register_pages() -> None:
    dash.register_page("home", path="/", name="Overview", title="SourcingX", layout=home.layout)
    dash.register_page(
        "profiles",
        path="/profiles",
        name="Profiles",
        title="Profiles · SourcingX",
        layout=profiles.layout,
    )
    dash.register_page(
        "projects",
        path="/projects",
        name="Projects",
        title="Projects · SourcingX",
        layout=projects.list_layout,
    )
    dash.register_page(
        "project",
        path_template="/projects/<project_id>",
        name="Project",
        title="Project · SourcingX",
        layout=projects.project_layout,
    )
    dash.register_page(
        "insights",
        path="/insights",
        name="Insights",
        title="Insights · SourcingX",
        layout=insights.layout,
    )
    dash.register_page(
        "filters",
        path="/filters",
        name="Filters",
        title="Filters · SourcingX",
        layout=filters.layout,
    )
    dash.register_page("admin", path="/admin", name="Admin", layout=admin.layout)
    dash.register_page(
        "not_found_404", path="/404", name="Not found", layout=placeholders.not_found
    )


def _shell_layout() -> object:
    """Evaluated per page load: it only reads the signed-in user from the request, no I/O."""
    if not has_request_context():  # Dash builds the layout once at start-up to validate ids
        return shell.shell(user_name="", role="", sandbox=False, csrf="")
    user = security.current_session_user()
    settings = get_settings()
    return shell.shell(
        user_name=user.name if user else "",
        role=user.role if user else "",
        sandbox=settings.uses_sandbox,
        csrf=security.csrf_token(),
    )


def create_app() -> Dash:
    settings = _resolved_settings()
    configure_logging()
    server = Flask(__name__)
    observability.install(server)  # first, so even refused requests get an id and a metric
    security.install(server, settings)
    for blueprint in (
        login.bp,
        health.bp,
        downloads.bp,
        insights_download.bp,
        admin_download.bp,
        shortlist_download.bp,
        import_download.bp,
        webhooks.bp,
    ):
        server.register_blueprint(blueprint)
    app = Dash(
        __name__,
        server=server,  # type: ignore[arg-type]
        use_pages=True,
        pages_folder="",
        assets_folder=str(PROJECT_ROOT / "assets"),
        title="SourcingX",
        update_title=None,  # type: ignore[arg-type]
        serve_locally=True,
    )
    _register_pages()
    app.layout = _shell_layout
    import callbacks  # noqa: F401  (registers every callback with dash.callback)

    return app


app = create_app()
server = app.server
