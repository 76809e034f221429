"""GET /v2/zap-runs as a client sees it, in-process and over a socket: every answer per contract."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from urllib.parse import urlencode, urlsplit

import pytest

from tests.sandbox.conftest import BEARER
from tests.sandbox.contract import ZAP_RUNS, check_answer, check_component, zap_run_statuses

pytestmark = pytest.mark.usefixtures("contract_dir")
NOW = dt.datetime.now(dt.UTC)


def iso(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def micros(text: str) -> int:
    return round(dt.datetime.fromisoformat(text).timestamp() * 1_000_000)


def hours_ago(hours: float) -> str:
    return iso(NOW - dt.timedelta(hours=hours))


def list_runs(api, headers=BEARER, **params):
    """The raw answer, checked against the contract."""
    answer = api.request("GET", f"/v2/zap-runs?{urlencode(params)}", headers=headers)
    check_answer("get-zap-runs", answer)
    if answer.status == 200:
        assert len(answer.json) == 1  # the contract's 200 is an array holding one page
        for run in answer.json[0]["data"]:
            assert run["status"] in zap_run_statuses()
    return answer


def page(api, **params) -> dict:
    answer = list_runs(api, **params)
    assert answer.status == 200, answer.body
    return answer.json[0]


def follow(api, link: str) -> dict:
    """A links.next/prev URL, which must be absolute, requested as is."""
    parts = urlsplit(link)
    assert parts.scheme == "http" and parts.netloc, link
    if api.transport == "socket":
        assert link.startswith(api.base), link
    answer = api.request(
        "GET", f"{parts.path.removeprefix('/sandbox')}?{parts.query}", headers=BEARER
    )
    check_answer("get-zap-runs", answer)
    return answer.json[0]


def make(api, body) -> list[dict]:
    answer = api.request("POST", "/_admin/zap-runs", json=body)
    assert answer.status == 201, answer.body
    for run in answer.json["data"]:
        check_component(ZAP_RUNS, "ZapRun", run)
    return answer.json["data"]


def ids(runs: list[dict]) -> list[str]:
    return [run["id"] for run in runs]


def test_an_empty_sandbox_answers_one_empty_page(api):
    assert page(api) == {
        "links": {"next": None, "prev": None},
        "meta": {"count": 0, "limit": 10, "offset": 0},
        "data": [],
    }


def test_runs_come_newest_first_with_what_they_were_made_with(api):
    old = make(api, {"start_time": hours_ago(3), "status": "error", "data_in": {"order": 7}})
    new = make(api, {"start_time": hours_ago(1), "status": "pending", "zap_title": "New one"})
    listed = page(api)["data"]
    assert ids(listed) == ids(new + old)
    assert listed[0]["end_time"] is None and listed[0]["zap_title"] == "New one"
    assert listed[1]["end_time"] == listed[1]["start_time"] == hours_ago(3)
    assert listed[1]["data_in"] == {"order": 7} and listed[1]["status"] == "error"
    assert listed == new + old  # the list shows exactly what the admin answer showed


def test_paging_walks_every_run_exactly_once(api):
    # Five runs share one start_time, so the order within them rests on the id.
    made = make(
        api,
        [{"start_time": hours_ago(h)} for h in range(1, 15)]
        + [{"count": 5, "start_time": iso(NOW)}],
    )
    expected = sorted(made, key=lambda r: (-micros(r["start_time"]), r["id"]))
    first = current = page(api, limit=4)
    seen = []
    while True:
        assert current["meta"]["count"] == 19 and current["meta"]["limit"] == 4
        seen += ids(current["data"])
        if current["links"]["next"] is None:
            break
        current = follow(api, current["links"]["next"])
    assert seen == ids(expected)
    assert first["links"]["prev"] is None and current["meta"]["offset"] == 16
    back = follow(api, current["links"]["prev"])
    assert back["meta"]["offset"] == 12 and ids(back["data"]) == seen[12:16]


def test_filters_select_by_zap_status_search_and_dates(api):
    boundary = NOW - dt.timedelta(hours=2)
    make(
        api,
        [
            {
                "zap_id": 1,
                "zap_title": "Café orders",
                "status": "success",
                "start_time": iso(boundary),
            },
            {"zap_id": 1, "status": "error", "data_out": {"reason": "Quota 100% used"}},
            {"zap_id": 2, "status": "filtered", "data_in": {"email": "ANA@example.com"}},
            {"zap_id": 2, "status": "held", "start_time": hours_ago(24 * 31)},
        ],
    )

    def statuses(**params) -> list[str]:
        return sorted(run["status"] for run in page(api, **params)["data"])

    assert statuses() == ["error", "filtered", "success"]  # the last 30 days by default
    assert statuses(from_date=hours_ago(24 * 40)) == ["error", "filtered", "held", "success"]
    assert statuses(zap_id=1) == ["error", "success"]
    assert statuses(statuses="error,filtered") == ["error", "filtered"]
    assert statuses(statuses="held", from_date=hours_ago(24 * 40)) == ["held"]
    assert statuses(search="CAFÉ") == ["success"]  # zap_title, any case
    assert statuses(search="ana@EXAMPLE") == ["filtered"]  # data_in
    assert statuses(search="100%") == ["error"]  # data_out; % is no wildcard
    assert statuses(search="zzz") == []
    assert statuses(from_date=iso(boundary)) == ["error", "filtered", "success"]  # on or after
    assert statuses(to_date=iso(boundary)) == []  # strictly before
    assert statuses(to_date=iso(boundary + dt.timedelta(microseconds=1))) == ["success"]


def test_links_keep_the_filters(api):
    make(api, [{"status": s} for s in ("error", "success", "filtered", "error")])
    first = page(api, statuses="error,success", limit=1)
    assert first["meta"]["count"] == 3
    seen = [first["data"][0]["status"]]
    current = first
    while current["links"]["next"]:
        assert "statuses=error%2Csuccess" in current["links"]["next"]
        current = follow(api, current["links"]["next"])
        seen += [run["status"] for run in current["data"]]
    assert sorted(seen) == ["error", "error", "success"]


def test_a_limit_above_100_is_answered_as_100(api):
    make(api, {"count": 101})
    capped = page(api, limit=500)
    assert capped["meta"]["limit"] == 100 and len(capped["data"]) == 100
    assert "limit=100" in capped["links"]["next"]
    assert len(follow(api, capped["links"]["next"])["data"]) == 1


@pytest.mark.parametrize(
    ("params", "parameter", "named"),
    [
        ({"limit": "0"}, "limit", "limit"),
        ({"limit": "ten"}, "limit", "limit"),
        ({"offset": "-1"}, "offset", "offset"),
        ({"zap_id": "abc"}, "zap_id", "zap_id"),
        ({"statuses": "error,bogus"}, "statuses", "'bogus'"),
        ({"statuses": "success,"}, "statuses", "''"),
        ({"from_date": "yesterday"}, "from_date", "from_date"),
        ({"to_date": "2024-13-01T00:00:00Z"}, "to_date", "to_date"),
        ({"search": "x" * 151}, "search", "search"),
        ("statuses=error&statuses=success", "statuses", "more than once"),
    ],
    ids=[
        "limit-0",
        "limit-text",
        "offset-negative",
        "zap-id-text",
        "unknown-status",
        "empty-status",
        "from-date-text",
        "to-date-month-13",
        "search-151",
        "statuses-repeated",
    ],
)
def test_bad_parameters_are_a_400_parse_error_naming_them(api, params, parameter, named):
    query = params if isinstance(params, str) else urlencode(params)
    answer = api.request("GET", f"/v2/zap-runs?{query}", headers=BEARER)
    check_answer("get-zap-runs", answer)
    assert answer.status == 400
    [error] = answer.json["errors"]
    assert (error["code"], error["title"], error["source"]) == (
        "parse_error",
        "ParseError",
        {"parameter": parameter},
    )
    assert named in error["detail"]


def test_every_bad_parameter_gets_its_own_error(api):
    answer = list_runs(api, limit="0", zap_id="x", statuses="nope")
    assert answer.status == 400
    named = sorted(e["source"]["parameter"] for e in answer.json["errors"])
    assert named == ["limit", "statuses", "zap_id"]


def test_no_bearer_token_is_a_401_and_is_not_counted(api):
    assert list_runs(api, headers={}).status == 401
    assert list_runs(api, headers={"Authorization": "Bearer  "}).status == 401
    stats = api.stats()
    assert stats["zap_runs"]["list_calls"] == 0 and stats["rate"]["get"]["max_per_window"] == 0


def test_past_the_get_window_answers_429_with_retry_after(api):
    api.knobs(get_limit=2, window_seconds=10**7)  # no boundary mid-test
    assert [list_runs(api).status for _ in range(3)] == [200, 200, 429]
    refused = list_runs(api)
    assert refused.json["errors"][0]["code"] == "too_many_requests"
    until_reset = int(refused.header("X-RateLimit-Reset")) - time.time()
    assert abs(int(refused.header("Retry-After")) - until_reset) <= 2
    assert api.stats()["zap_runs"]["list_calls"] == 2


@pytest.mark.parametrize(("knob", "status"), [("rate_503_burst", 503), ("rate_429_burst", 429)])
def test_fault_bursts_answer_with_retry_after_one(api, knob, status):
    api.knobs(**{knob: 1})
    answer = list_runs(api)
    assert (answer.status, answer.header("Retry-After")) == (status, "1")


def test_an_admin_change_moves_a_run_from_pending_to_success(api):
    [run] = make(api, {"status": "pending"})
    assert page(api)["data"][0]["end_time"] is None
    changed = api.request("PATCH", f"/_admin/zap-runs/{run['id']}", json={"status": "success"})
    assert changed.status == 200
    check_component(ZAP_RUNS, "ZapRun", changed.json["data"])
    [listed] = page(api)["data"]
    assert listed == changed.json["data"]
    assert listed["status"] == "success" and listed["end_time"] >= listed["start_time"]

    back = {"status": "held", "end_time": None, "data_out": {"note": "held"}}
    assert api.request("PATCH", f"/_admin/zap-runs/{run['id']}", json=back).status == 200
    [listed] = page(api, search="note")["data"]
    assert (listed["status"], listed["end_time"]) == ("held", None)


def test_admin_refuses_bad_specs_and_unknown_runs(api):
    for bad in (
        {"status": "done"},
        {"surprise": 1},
        {"data_in": None},
        {"count": 0},
        [{"count": 600}, {"count": 600}],
        "text",
    ):
        assert api.request("POST", "/_admin/zap-runs", json=bad).status == 400, bad
    pointer = api.request("POST", "/_admin/zap-runs", json=[{}, {"status": "x"}]).json
    assert pointer["errors"][0]["source"] == {"pointer": "/1/status"}
    unknown = api.request("PATCH", f"/_admin/zap-runs/{uuid.uuid4()}", json={"status": "success"})
    assert unknown.status == 404
    [run] = make(api, {})
    refused = api.request("PATCH", f"/_admin/zap-runs/{run['id']}", json={"end_time": None})
    assert refused.status == 400
    assert page(api)["meta"]["count"] == 1


def test_reset_forgets_zap_runs_and_stats_count_list_calls(api):
    make(api, [{"status": "success"}, {"status": "error"}])
    page(api)
    page(api, statuses="error")
    stats = api.stats()
    assert stats["zap_runs"] == {
        "stored": 2,
        "by_status": {"success": 1, "error": 1},
        "list_calls": 2,
    }
    assert {"runs", "callbacks", "rate", "answered_429", "answered_503"} <= set(stats)
    assert api.request("POST", "/_admin/reset").status == 200
    assert page(api)["meta"]["count"] == 0
    assert api.stats()["zap_runs"] == {"stored": 0, "by_status": {}, "list_calls": 1}
