"""RETENTION_DAYS: 30 by default, fractions accepted, 0 keeps everything, negatives refused."""

import pytest

from app.config.settings import ConfigError, load_settings
from app.worker.maintenance import interval_seconds


def test_retention_defaults_to_30_days():
    assert load_settings({}).retention_days == 30.0


@pytest.mark.parametrize(("raw", "days"), [("0", 0.0), ("0.001", 0.001), ("365", 365.0)])
def test_retention_days_accepts_fractions_and_zero(raw, days):
    assert load_settings({"RETENTION_DAYS": raw}).retention_days == days


@pytest.mark.parametrize("raw", ["-1", "soon", "nan"])
def test_a_bad_retention_is_named(raw):
    with pytest.raises(ConfigError, match="RETENTION_DAYS"):
        load_settings({"RETENTION_DAYS": raw})


def test_the_lane_looks_every_minute_or_a_tenth_of_a_short_window():
    assert interval_seconds(30 * 86400.0) == 60.0
    assert interval_seconds(60.0) == 6.0
    assert interval_seconds(1.0) == 1.0
