import os

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("wccgen", deadline=None, max_examples=60,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", deadline=None, max_examples=1000,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "wccgen"))


@pytest.fixture
def rng():
    return np.random.default_rng(12345)
