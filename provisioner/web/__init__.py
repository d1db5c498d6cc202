"""The web layer: login, error mapping and every blueprint."""

from __future__ import annotations

from flask import Flask, redirect, url_for
from flask_login import LoginManager, current_user
from flask_wtf.csrf import CSRFProtect

from provisioner.db import db
from provisioner.schools.models import User

login_manager = LoginManager()
csrf = CSRFProtect()


def register_web(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please log in to see that page."
    csrf.init_app(app)

    from provisioner.web import errors
    from provisioner.web.account import account
    from provisioner.web.admin import admin
    from provisioner.web.api import api
    from provisioner.web.auth import auth
    from provisioner.web.portal import portal

    errors.register(app)
    app.register_blueprint(auth)
    csrf.exempt(api)
    app.register_blueprint(api)
    app.register_blueprint(admin)
    app.register_blueprint(portal)
    app.register_blueprint(account)
    # -- feature blueprints below this line (one import and one register each) --
    from provisioner.web.operations import operations

    app.register_blueprint(operations)
    from provisioner.web.cases_api import register as register_cases

    register_cases(app)
    from provisioner.web.dns_requests import dns_requests

    app.register_blueprint(dns_requests)
    from provisioner.web.domain_lifecycle import domain_lifecycle

    app.register_blueprint(domain_lifecycle)
    from provisioner.web.hosting import hosting

    app.register_blueprint(hosting)
    from provisioner.web.hosting_admin import hosting_admin

    app.register_blueprint(hosting_admin)

    @app.get("/")
    def index():
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login"))
        if current_user.is_staff and "admin.schools" in app.view_functions:
            return redirect(url_for("admin.schools"))
        if "portal.home" in app.view_functions:
            return redirect(url_for("portal.home"))
        return redirect(url_for("auth.login"))


@login_manager.user_loader
def _load_user(user_id: str) -> User | None:
    user = db.session.get(User, int(user_id))
    return user if user and user.active else None
