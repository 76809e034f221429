"""The upstream client when answers go wrong: bodies off the contract, redirects, timeouts."""

import json
import socket
import threading

import pytest
from werkzeug import Response

from app.upstream.client import UpstreamClient
from app.upstream.outcomes import Processing, Refused, Result, TransportError

from .contract_examples import (
    RUN_ID,
    SA_GET,
    SA_ID,
    SA_RUN,
    TOKEN,
    V1_RESULT,
    V2_GET,
    V2_RESULT,
    respond,
)


def test_unknown_fields_of_a_result_are_kept(client, httpserver):
    body = V1_RESULT | {"trace": {"span": 7}, "errors": [{"code": "user", "vendor_hint": "x"}]}
    respond(httpserver, "GET", SA_GET, 200, body)

    outcome = client.get_stored_action_run(SA_ID, RUN_ID, token=TOKEN)

    assert isinstance(outcome, Result)
    assert outcome.body["trace"] == {"span": 7}
    assert outcome.body["errors"][0]["vendor_hint"] == "x"
    assert json.loads(outcome.raw) == body


def test_v2_result_is_the_whole_wrapped_answer(client, httpserver):
    respond(httpserver, "GET", V2_GET, 200, V2_RESULT)

    assert client.get_action_run(RUN_ID, token=TOKEN).body == V2_RESULT


@pytest.mark.parametrize(
    "body",
    [
        {"type": "run", "status": "finished", "errors": []},  # status outside the enum
        {"type": "run", "status": "success"},  # errors is required
        ["not", "an", "object"],
    ],
)
def test_invalid_result_body_is_a_transport_error(client, httpserver, body):
    respond(httpserver, "GET", SA_GET, 200, body)

    outcome = client.get_stored_action_run(SA_ID, RUN_ID, token=TOKEN)

    assert isinstance(outcome, TransportError)
    assert outcome.status == 200
    assert "invalid 200 body" in outcome.detail


def test_non_json_accepted_body_is_a_transport_error(client, httpserver):
    httpserver.expect_request(SA_RUN).respond_with_data("<html>ok</html>", status=202)

    outcome = client.run_stored_action(SA_ID, {}, token=TOKEN)

    assert isinstance(outcome, TransportError)
    assert "not JSON" in outcome.detail


def test_accepted_without_run_id_is_a_transport_error(client, httpserver):
    respond(httpserver, "POST", SA_RUN, 202, {"data": {"type": "run"}})

    assert "data.id is missing" in client.run_stored_action(SA_ID, {}, token=TOKEN).detail


def test_refusal_without_error_shape_gets_a_synthesized_entry(client, httpserver):
    httpserver.expect_request(SA_RUN).respond_with_data("<h1>Forbidden</h1>", status=403)

    outcome = client.run_stored_action(SA_ID, {}, token=TOKEN)

    assert isinstance(outcome, Refused)
    assert [(e["status"], e["title"]) for e in outcome.errors] == [(403, "Forbidden")]
    assert "<h1>Forbidden</h1>" in outcome.errors[0]["detail"]


def test_redirect_is_not_followed(client, httpserver):
    elsewhere = httpserver.url_for("/elsewhere")
    httpserver.expect_request(SA_GET).respond_with_response(
        Response(status=302, headers={"Location": elsewhere})
    )
    httpserver.expect_request("/elsewhere").respond_with_json(V1_RESULT)

    outcome = client.get_stored_action_run(SA_ID, RUN_ID, token=TOKEN)

    assert isinstance(outcome, TransportError)
    assert outcome.detail.startswith("unexpected redirect")
    assert [request.path for request, _ in httpserver.log] == [SA_GET]


def test_read_timeout_is_a_transport_error(httpserver):
    release = threading.Event()

    def slow(_request):
        release.wait(5)
        return Response("{}", status=200)

    httpserver.expect_request(SA_GET).respond_with_handler(slow)
    with UpstreamClient(httpserver.url_for("/"), total_timeout=0.2) as client:
        try:
            outcome = client.get_stored_action_run(SA_ID, RUN_ID, token=TOKEN)
        finally:
            release.set()

    assert isinstance(outcome, TransportError)
    assert outcome.detail.startswith("timeout")
    assert outcome.status is None
    assert 150 <= outcome.latency_ms < 2000


def test_connection_refused_is_a_transport_error():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with UpstreamClient(f"http://127.0.0.1:{port}", connect_timeout=1.0) as client:
        outcome = client.create_action_run({}, token=TOKEN)

    assert isinstance(outcome, TransportError)
    assert outcome.detail.startswith("connection error")
    assert outcome.rate is None


def test_calls_from_many_threads_share_the_client(client, httpserver):
    respond(httpserver, "GET", V2_GET, 202)
    outcomes = []
    threads = [
        threading.Thread(target=lambda: outcomes.append(client.get_action_run(RUN_ID, token=TOKEN)))
        for _ in range(3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert [type(o) for o in outcomes] == [Processing] * 3


def test_an_upstream_that_drips_its_answer_is_cut_at_the_total_deadline():
    """One header byte every 0.2 s: each read is quick, so a per-read timeout never fires and
    the whole 202 would arrive after ~8 s. The total deadline (1 s) cuts it: no answer."""
    answer = b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    stop = threading.Event()
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)

    def drip():
        conn, _ = server.accept()
        with conn:
            for byte in answer:
                if stop.wait(0.2):
                    return
                conn.sendall(bytes([byte]))

    dripper = threading.Thread(target=drip, daemon=True)
    dripper.start()
    base = f"http://127.0.0.1:{server.getsockname()[1]}"
    try:
        with UpstreamClient(base, total_timeout=1.0) as client:
            outcome = client.get_action_run(RUN_ID, token=TOKEN)
    finally:
        stop.set()
        dripper.join(5)
        server.close()

    assert isinstance(outcome, TransportError)
    assert outcome.detail.startswith("timeout")
