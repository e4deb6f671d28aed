"""The FastAPI application: API under /api (OpenAPI at /api/openapi.json, interactive docs at
/api/docs), pages at /, static files at /static."""

from __future__ import annotations

from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Depends, FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..documents import configure_parsing
from ..errors import StepDownError
from ..packs import packs_for
from ..records import Checkpointer
from ..records.jobs import JobRunner, recover_jobs
from ..settings import Settings
from ..spec import Registry, default_registry
from ..store import Database
from . import errors, pages
from .deps import known_query_only
from .api import account, cases, documents, forms, packs as packs_api, submissions
from .limits import BodyLimit, SecurityHeaders

STATIC = Path(__file__).with_name("static")


def create_app(settings: Settings | None = None, registry: Registry | None = None) -> FastAPI:
    settings = settings or Settings.from_env()
    db = Database(settings)
    db.migrate()
    configure_parsing(settings.parse_concurrency)
    registry = registry or default_registry()
    recover_jobs(db)
    checkpoints = Checkpointer(db)  # the audit chain's head, published now, hourly and at shutdown  # jobs a crash or restart interrupted are marked failed, never left running
    packs = packs_for(registry)
    runner = JobRunner(db, registry, packs)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        runner.stop()
        checkpoints.stop()
        db.dispose()

    app = FastAPI(title="Step Down Forms", version="0.1.0", lifespan=lifespan, docs_url="/api/docs", redoc_url=None,
                  openapi_url="/api/openapi.json",
                  description="Fillable Word and PDF forms for children's social care, read back into validated "
                              "data. Every endpoint but /api/health needs an API token.")
    app.state.db, app.state.registry, app.state.settings = db, registry, settings
    app.state.packs, app.state.jobs = packs, runner
    app.add_exception_handler(StepDownError, errors.stepdown_error)
    app.add_exception_handler(RequestValidationError, errors.validation_error)
    app.add_exception_handler(StarletteHTTPException, errors.http_error)
    app.add_exception_handler(pages.LoginRequired, lambda request, exc: RedirectResponse("/login", status_code=303))

    @app.get("/api/health", tags=["health"])
    def health() -> dict:
        """Anonymous: is the service up and its database reachable."""
        with db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return {"status": "ok"}

    for module in (forms, documents, cases, submissions, packs_api, account):
        app.include_router(module.router, prefix="/api", dependencies=[Depends(known_query_only)])
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_middleware(BodyLimit, limit=settings.max_upload_bytes)
    app.add_middleware(SecurityHeaders)
    return app
