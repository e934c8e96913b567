"""Adds the console to the application: its pages, its static files, its error pages."""

from __future__ import annotations

from importlib.resources import files

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from enabley.console import compliance, figures, scim, uploads, webhooks
from enabley.console.render import install_handlers
from enabley.console.router import router

STATIC = "/console/static"


def install_console(app: FastAPI) -> None:
    app.include_router(router)
    app.include_router(compliance.router)
    app.include_router(figures.router)
    app.include_router(webhooks.router)
    app.include_router(uploads.router)
    app.include_router(scim.router)
    app.mount(STATIC, StaticFiles(directory=str(files("enabley.console") / "static")), name="console-static")
    install_handlers(app)
