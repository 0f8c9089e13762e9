"""SourcingX web application: the Flask server and the Dash app with its pages.

`server` is what gunicorn serves (`gunicorn app:server`). Creating the app opens no pool and no
client: those are created lazily per process, after gunicorn forks its workers.
"""

from __future__ import annotations

import logging

import dash
from dash import Dash
from flask import Flask, has_request_context

import callbacks
from callbacks.kit import on_callback_error
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


# (module, path or path template, page name, title, layout); a None title: Dash's default.
_PAGES = (
    ("home", "/", "Overview", "SourcingX", home.layout),
    ("profiles", "/profiles", "Profiles", "Profiles · SourcingX", profiles.layout),
    ("projects", "/projects", "Projects", "Projects · SourcingX", projects.list_layout),
    (
        "project",
        "/projects/<project_id>",
        "Project",
        "Project · SourcingX",
        projects.project_layout,
    ),
    ("insights", "/insights", "Insights", "Insights · SourcingX", insights.layout),
    ("filters", "/filters", "Filters", "Filters · SourcingX", filters.layout),
    ("admin", "/admin", "Admin", None, admin.layout),
    ("not_found_404", "/404", "Not found", None, placeholders.not_found),
)


def _register_pages() -> None:
    for module, path, name, title, layout in _PAGES:
        # A path with a <variable> is a template: Dash fills the layout's keyword from it.
        where = {"path_template": path} if "<" in path else {"path": path}
        dash.register_page(module, name=name, title=title, layout=layout, **where)


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
        on_error=on_callback_error,
    )
    _register_pages()
    app.layout = _shell_layout
    callbacks.register_all()

    return app


app = create_app()
server = app.server
