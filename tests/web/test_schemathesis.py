"""Schemathesis generates requests from the OpenAPI schema (valid and invalid) against every
operation: no server errors, every response fits the documented statuses and bodies, valid
requests are accepted and invalid ones (an unknown query parameter among them) refused.

The run is seeded, so a failure reproduces: ``STEPDOWN_TEST_SEED`` sets the seed (the default is
fixed), ``STEPDOWN_TEST_SEED=random`` draws a new one and prints it."""

from __future__ import annotations

import os
import random
import tempfile

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from service import records
from service.settings import Settings
from service.web import create_app
from tests.conftest import REGISTRY
from tests.web.conftest import PASSWORD

_folder = tempfile.mkdtemp(prefix="sdf-schemathesis-")
app = create_app(Settings(database_url=f"sqlite:///{_folder}/api.sqlite3", data_dir=_folder, job_workers=0),
                 registry=REGISTRY)
_actor = records.create_user(app.state.db, "sch.admin", PASSWORD, role="admin", team="Fuzz Team")
TOKEN = records.create_token(app.state.db, _actor, "schemathesis")
records.create_case(app.state.db, _actor, {"su_number": "SU-EX-FUZZ", "child_name": "Fuzz Example"})

schema = schemathesis.openapi.from_asgi("/api/openapi.json", app)
# Every request carries a real token (below), so the Authorization header is not generated: a
# "negative" case that spoiled it would be sent with the real one and rightly accepted.
schema.config.generation.update(with_security_parameters=False)
_seed = os.environ.get("STEPDOWN_TEST_SEED", "20261202")
schema.config.seed = random.randrange(2**32) if _seed == "random" else int(_seed)
print(f"schemathesis seed: {schema.config.seed}")

# Where acceptance depends on more than the request's shape, a well-formed request may rightly be
# refused: an upload must hold a form of ours, and prefill data must fit the form named beside it
# (each form has its own JSON Schema, at /api/forms/{id}/schema).
BEYOND_THE_SCHEMA = {("POST", "/api/submissions"), ("POST", "/api/documents"), ("POST", "/api/packs/{pack_id}/jobs")}


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_schema(case):
    excluded = [positive_data_acceptance] if (case.method.upper(), case.path) in BEYOND_THE_SCHEMA else []
    case.call_and_validate(headers={"Authorization": f"Bearer {TOKEN}"}, excluded_checks=excluded)
