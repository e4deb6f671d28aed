"""The web service: a JSON API under /api and server-rendered pages, both calling the core
(``service``, ``service.records``) and nothing below it."""

from .app import create_app

__all__ = ["create_app"]
