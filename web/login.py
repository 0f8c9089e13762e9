"""Login and logout: a plain server-rendered form (no Dash needed before sign-in)."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template_string, request, session
from flask_login import login_user, logout_user
from werkzeug.wrappers import Response as BaseResponse

from services import auth
from web.security import SessionUser, check_csrf, csrf_token

bp = Blueprint("auth", __name__)

LOGIN_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in · SourcingX</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/assets/00-bootstrap.min.css"></head>
<body class="bg-light"><main class="container" style="max-width: 420px; margin-top: 10vh">
<h1 class="h3 mb-3">SourcingX</h1><p class="text-muted">Sign in to your team's sourcing dashboard.</p>
{% if error %}<div class="alert alert-danger" role="alert" id="login-error">{{ error }}</div>{% endif %}
<form method="post" action="/login" class="card card-body shadow-sm">
<input type="hidden" name="csrf_token" value="{{ csrf }}">
<input type="hidden" name="next" value="{{ next_url }}">
<label class="form-label" for="email">Email</label>
<input class="form-control mb-3" id="email" name="email" type="email" autocomplete="username" required value="{{ email }}">
<label class="form-label" for="password">Password</label>
<input class="form-control mb-3" id="password" name="password" type="password" autocomplete="current-password" required>
<button class="btn btn-primary w-100" id="login-submit" type="submit">Sign in</button>
</form></main></body></html>"""


def _safe_next(target: str | None) -> str:
    # Only local paths: an open redirect would turn our login page into a phishing helper.
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


@bp.route("/login", methods=["GET", "POST"], endpoint="login")
def login() -> BaseResponse | str | tuple[str, int]:
    next_url = _safe_next(request.values.get("next"))
    if request.method == "GET":
        return render_template_string(
            LOGIN_PAGE, error=None, csrf=csrf_token(), next_url=next_url, email=""
        )
    email = request.form.get("email", "")
    if not check_csrf(request.form.get("csrf_token")):
        return render_template_string(
            LOGIN_PAGE,
            error="Your form expired; please sign in again.",
            csrf=csrf_token(),
            next_url=next_url,
            email=email,
        ), 400
    user = auth.authenticate(email, request.form.get("password", ""))
    if user is None:
        return render_template_string(
            LOGIN_PAGE,
            error="Wrong email or password.",
            csrf=csrf_token(),
            next_url=next_url,
            email=email,
        ), 401
    session.clear()  # a fresh session at login: nothing planted before sign-in survives it
    session.permanent = True
    login_user(SessionUser(user))
    csrf_token()
    return redirect(next_url)


@bp.route("/logout", methods=["POST"], endpoint="logout")
def logout() -> BaseResponse | tuple[str, int]:
    if not check_csrf(request.form.get("csrf_token")):
        return "Invalid form token", 400
    logout_user()
    session.clear()
    return redirect("/login")
