"""Fixtures shared by the integration tests: the operator's receiver of ops events."""

from __future__ import annotations

import pytest

from tests.support.receiver import Receiver

# OPS_WEBHOOK_SECRET in these tests: the receiver verifies each ops event with it.
OPS_SECRET = "whsec_" + "T1BTT1BTT1BTT1BTT1BTT1BTT1BTT1BTT1BTT1BTT1A="


@pytest.fixture
def ops_receiver():
    box = Receiver(OPS_SECRET).start()
    yield box
    box.close()
