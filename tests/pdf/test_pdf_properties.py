"""Random data from each spec, text from many scripts, survives PDF generate -> extract."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, Phase, assume, given, settings
from hypothesis import strategies as st

from service.pdf import extract_pdf, generate_pdf
from service.shape import complete
from tests.conftest import FORM_IDS, REGISTRY
from tests.strategies import data_for, texts_in


# Each example costs a sandboxed parse (a fresh interpreter), so few examples and no shrinking.
@pytest.mark.parametrize("form_id", FORM_IDS)
@settings(max_examples=6, deadline=None, phases=[Phase.explicit, Phase.generate],
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_random_data_round_trips_through_pdf(form_id, data):
    spec = REGISTRY.get(form_id)
    value = data.draw(data_for(spec))
    # A value that is only spaces reads back as empty, as it does in Word.
    assume(all(t == "" or t.strip() for t in texts_in(value)))
    result = extract_pdf(generate_pdf(spec, value), REGISTRY)
    assert result.data == complete(spec, value)
