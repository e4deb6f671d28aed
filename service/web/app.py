"""The FastAPI application: API under /api (OpenAPI at /api/openapi.json, interactive docs at
/api/docs), pages at /, static files at /static."""

from __future__ import annotations

from contextlib import asynccontextmanager
from importlib.resources import files
from pathlib import Path

from fastapi import Depends, FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..documents import configure_parsing, parsers_ready
from ..errors import StepDownError
from ..isolation import settle
from ..packs import packs_for
from ..records import Checkpointer
from ..jobs import engine_for
from ..records.jobs import recover_jobs
from ..settings import Settings
from ..spec import Registry, default_registry
from ..store import Database
from . import account as account_pages, admin, batches, errors, manage, pages, signin, uploads
from .deps import known_query_only
from .api import account, cases, documents, forms, packs as packs_api, submissions
from .limits import BodyLimit, SecurityHeaders

STATIC = Path(__file__).with_name("static")
DOCS_ASSETS = "/api/docs/assets"  # Swagger UI's files, from the fastapi-offline package


def create_app(settings: Settings | None = None, registry: Registry | None = None, *, startup: bool = True) -> FastAPI:
    """The application. ``startup`` brings the schema up to date and lets batches a crash or
    restart interrupted carry on; with several server processes the parent does that once,
    before any of them answers (``serve_app``)."""
    settings = settings or Settings.from_env()
    db = Database(settings)
    if startup:
        db.migrate()
        recover_jobs(db, resume_running=not settings.broker_url)  # interrupted batches carry on
    configure_parsing(settings.parse_concurrency)
    registry = registry or default_registry()
    checkpoints = Checkpointer(db)  # the audit chain's head, published now, hourly and at shutdown
    packs = packs_for(registry)
    runner = engine_for(db, registry, packs)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        runner.start()  # running already, unless this application was started and stopped before
        yield
        runner.stop()
        if getattr(app.state, "sso", None) is not None:
            app.state.sso.close()  # the connections to the sign-in provider
            app.state.sso = None
        checkpoints.stop()
        db.dispose()

    app = FastAPI(title="Step Down Forms", version="0.1.0", lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url="/api/openapi.json",
                  description="Fillable Word and PDF forms for children's social care, read back into validated "
                              "data. Every endpoint but /api/health needs an API token.")
    app.state.db, app.state.registry, app.state.settings = db, registry, settings
    app.state.packs, app.state.jobs = packs, runner
    app.state.error_page = pages.error_page  # what a browser is shown when a page's request fails
    app.add_exception_handler(StepDownError, errors.stepdown_error)
    app.add_exception_handler(RequestValidationError, errors.validation_error)
    app.add_exception_handler(StarletteHTTPException, errors.http_error)
    app.add_exception_handler(pages.LoginRequired, pages.login_redirect)

    @app.get("/api/health", tags=["health"], responses={503: {"description": "Not ready: see which part"}})
    def health() -> JSONResponse:
        """Anonymous: whether this server process is ready, part by part: its database, the
        worker processes that read uploads, and the batch runner. 503 if any is not."""
        parts = {"database": _database_ready(db), **{f"{k}_parsers": v for k, v in parsers_ready().items()},
                 "batch_runner": runner.alive()}
        ready = all(parts.values())
        return JSONResponse({"status": "ok" if ready else "unavailable",
                             "checks": {k: "ok" if v else "failing" for k, v in parts.items()}},
                            status_code=200 if ready else 503)

    for module in (forms, documents, cases, submissions, packs_api, account):
        app.include_router(module.router, prefix="/api", dependencies=[Depends(known_query_only)])
    app.include_router(signin.router)
    app.include_router(manage.router)
    app.include_router(admin.router)
    app.include_router(account_pages.router)
    app.include_router(uploads.router)
    app.include_router(batches.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.mount(DOCS_ASSETS, StaticFiles(directory=str(files("fastapi_offline") / "static")), name="docs-assets")

    @app.get("/api/docs", include_in_schema=False)
    def api_docs() -> HTMLResponse:
        """Swagger UI from our own server (no CDN): it works where the internet does not reach."""
        return get_swagger_ui_html(openapi_url=app.openapi_url, title="Step Down Forms – API",
                                   swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
                                   swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
                                   swagger_favicon_url=f"{DOCS_ASSETS}/favicon.png")

    app.add_middleware(BodyLimit, limit=settings.max_upload_bytes)
    app.add_middleware(SecurityHeaders)
    return app


def _database_ready(db: Database) -> bool:
    try:
        with db.read() as connection:
            connection.execute(text("SELECT 1"))
        return True
    except Exception:  # any failure to reach it is "not ready"; what failed is not the caller's business
        return False


def serve_app() -> FastAPI:
    """The application in one of several server processes (``stepdown-forms serve --processes``,
    see ``processes.py``): settings and forms (``STEPDOWN_SPECS_DIR``) from the environment, the
    start-up work left to the parent."""
    app = create_app(startup=False)
    settle()  # what the process keeps for good, out of the collector's way
    return app
