"""The explorer's server without a browser: JSON endpoints, sessions, bounds and error messages (Starlette's
TestClient), the graph model, and `dagrad serve` as a process (Ctrl-C leaves nothing behind)."""

from __future__ import annotations

import math
import signal
import socket
import subprocess
import sys
from importlib import resources

import numpy as np
import pytest
from starlette.testclient import TestClient

import engine
import nn
from viz.explore.app import SESSION_HEADER, create_app
from viz.explore.model import GraphTooLarge, array_view, graph_model
from viz.explore.playground import Config, Playground, PlaygroundError
from viz.explore.session import MICROGRAD_EXAMPLE
from viz.explore.sources import CallableSource, TensorSource
from viz.expr import build_program


@pytest.fixture
def client() -> TestClient:
    return TestClient(create_app(), base_url="http://127.0.0.1")


def tab(client: TestClient) -> dict[str, str]:
    """A new tab: its session id, as the page keeps it."""
    return {SESSION_HEADER: client.get("/api/explorer").json()["session"]}


def tensor(graph: dict, name: str) -> dict:
    return next(n for n in graph["nodes"] if n["kind"] == "tensor" and n["name"] == name)


def test_a_new_tab_opens_micrographs_example_with_every_gradient(client):
    answer = client.get("/api/explorer").json()
    graph = answer["graph"]
    assert answer["source"]["program"] == MICROGRAD_EXAMPLE and answer["source"]["editable"]
    assert tensor(graph, "e")["value"]["values"] == [4.5]
    assert tensor(graph, "a")["grad"]["values"] == [pytest.approx(-0.5)]
    assert tensor(graph, "b")["grad"]["values"] == [pytest.approx(-3.5)]
    assert len(graph["steps"]) == 11 and graph["steps"][0]["lines"][0].startswith("Step 1: e = div + div_2")
    assert tensor(graph, "b")["sum"].endswith("= -3.5") and len(tensor(graph, "b")["arrivals"]) == 3
    placed = graph["layout"]["nodes"]
    assert {n["id"] for n in graph["nodes"]} == set(placed)  # no module boxes: every node is drawn
    assert all(p["w"] > 0 and p["h"] > 0 for p in placed.values())


def test_changing_a_leaf_recomputes_every_value_and_gradient_as_dagrad_does(client):
    headers = tab(client)
    graph = client.post("/api/explorer/value", json={"name": "a", "index": 0, "value": 1.25}, headers=headers).json()
    expected = build_program(MICROGRAD_EXAMPLE, {"a": 1.25})
    expected.root.backward()
    assert tensor(graph["graph"], "e")["value"]["values"][0] == pytest.approx(expected.root.item())
    assert tensor(graph["graph"], "a")["grad"]["values"][0] == pytest.approx(expected.leaves["a"].grad.item())
    assert tensor(graph["graph"], "b")["grad"]["values"][0] == pytest.approx(expected.leaves["b"].grad.item())
    assert graph["values"] == {"a": [1.25], "b": [2.0]}
    nudge = client.post("/api/explorer/nudge", json={"name": "b", "h": 1e-7}, headers=headers).json()["nudge"]
    assert nudge["slope"] == pytest.approx(nudge["gradient"], rel=1e-5)
    assert nudge["gradient"] == pytest.approx(expected.leaves["b"].grad.item())


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"program": "a = 1\n(a +"}, "cannot parse"),
        ({"program": "a = 1\nq * a"}, "unknown variable 'q' at line 2"),
        ({"program": "a = 1\n__import__('os').system('true')"}, "unknown function"),
        ({"program": "a = 1; " + " + ".join(["a * a"] * 200)}, "more than the page can show"),
        ({"program": "x" * 5000}, "at most 4000 are accepted"),
        ({"program": 7}, "must be text"),
        ({}, "needs the field 'program'"),
    ],
)
def test_a_bad_program_is_one_message_and_the_graph_stays(client, body, message):
    headers = tab(client)
    answer = client.post("/api/explorer/program", json=body, headers=headers)
    assert answer.status_code == 400 and message in answer.json()["error"], answer.json()
    still = client.get("/api/explorer", headers=headers).json()
    assert still["source"]["program"] == MICROGRAD_EXAMPLE  # the last good graph is kept
    good = client.post("/api/explorer/program", json={"program": "x = 3\nx * x + x"}, headers=headers).json()
    assert tensor(good["graph"], "x")["grad"]["values"] == [7.0]


@pytest.mark.parametrize(
    ("path", "body", "message"),
    [
        ("/api/explorer/value", {"name": "zz", "value": 1}, "there is no variable 'zz'"),
        ("/api/explorer/value", {"name": "a", "value": "nan"}, "must be a finite number"),
        ("/api/explorer/value", {"name": "a", "index": 3, "value": 1}, "the index must be 0 to 0"),
        ("/api/explorer/value", {"name": "b", "value": 1.0}, "evaluates to"),  # c = d = -3: 10 / 0
        ("/api/explorer/nudge", {"name": "a", "h": 0}, "non-zero"),
        ("/api/explorer/expand", {"module": "layers.9", "expanded": True}, "no module 'layers.9'"),
        ("/api/playground/step", {"steps": 1}, "press New first"),
        ("/api/playground/new", {"config": {"lr": 1e9}}, "learning rate must be a number from 1e-06 to 10"),
        ("/api/playground/new", {"config": {"hidden": "8, 0"}}, "hidden layer 2 has '0' units"),
        ("/api/playground/new", {"config": {"hidden": [10000]}}, "from 1 to 256"),
        ("/api/playground/new", {"config": {"hidden": "4," * 13}}, "at most 12 hidden layers"),
        ("/api/playground/new", {"config": {"points": 10**7}}, "number of points must be"),
        ("/api/playground/new", {"config": {"dataset": "mnist"}}, "unknown data set 'mnist'"),
        ("/api/playground/new", {"config": {"batch": 0}}, "batch size must be"),
        ("/api/playground/new", {"config": {"activation": "relu", "compare": "relu"}}, "another activation"),
        ("/api/playground/new", {"config": {"momentum": 2}}, "unknown setting(s) momentum"),
        ("/api/playground/graph", {"run": 0}, "no training in this tab"),
    ],
)
def test_bad_requests_get_one_clear_message_and_the_server_keeps_serving(client, path, body, message):
    headers = tab(client)
    answer = client.post(path, json=body, headers=headers)
    assert answer.status_code == 400 and message in answer.json()["error"], answer.json()
    assert client.get("/api/explorer", headers=headers).status_code == 200


def test_malformed_requests(client):
    assert client.post("/api/explorer/program", content=b"{not json").json()["error"] == (
        "the request body is not valid JSON"
    )
    assert "must be a JSON object" in client.post("/api/explorer/program", json=[1, 2]).json()["error"]
    huge = client.post("/api/explorer/program", content=b"x" * 100_000, headers={"content-type": "application/json"})
    assert huge.status_code == 413 and "at most 65536" in huge.json()["error"]
    missing = client.get("/api/nothing-here")
    assert missing.status_code == 404 and "GET /api/nothing-here" in missing.json()["error"]
    assert client.get("/api/playground/step").status_code == 405


def test_pages_and_their_code_are_served_from_the_package(client):
    for path, marker in [("/", 'id="graph"'), ("/playground", 'id="grad-chart"'), ("/static/explorer.js", "GraphView")]:
        answer = client.get(path)
        assert answer.status_code == 200 and marker in answer.text, path
    shipped = {p.name for p in resources.files("viz.explore").joinpath("static").iterdir()}
    assert {"explorer.html", "playground.html", "style.css", "common.js", "graph.js", "explorer.js"} <= shipped
    for name in shipped:  # offline: no page or script loads anything from another host
        text = resources.files("viz.explore").joinpath("static", name).read_text(encoding="utf-8")
        text = text.replace("http://www.w3.org/2000/svg", "")  # SVG's namespace name, not an address loaded
        assert "http://" not in text and "https://" not in text, name


def test_a_loopback_server_refuses_other_host_names():
    guarded = TestClient(create_app(allowed_hosts=["127.0.0.1", "localhost"]), base_url="http://127.0.0.1")
    assert guarded.get("/api/explorer").status_code == 200
    assert guarded.get("/api/explorer", headers={"host": "attacker.example"}).status_code == 400


def test_each_tab_trains_its_own_network(client):
    first, second = tab(client), tab(client)
    assert first != second
    client.post("/api/playground/new", json={"config": {"dataset": "xor"}}, headers=first)
    trained = client.post("/api/playground/step", json={"steps": 300}, headers=first).json()["state"]
    assert trained["step"] > 0 and trained["runs"][0]["history"][-1]["trainAccuracy"] >= 0.95
    other = client.post("/api/playground/new", json={"config": {"dataset": "moons", "lr": 0.5}}, headers=second)
    assert other.json()["state"]["step"] == 0
    again = client.get("/api/playground", headers=first).json()["state"]
    assert again["step"] == trained["step"] and again["config"]["dataset"] == "xor"
    assert client.post("/api/playground/step", json={"steps": 10**6}, headers=first).status_code == 400


def test_a_training_step_opens_in_the_explorer_with_modules_collapsed_and_expandable(client):
    headers = tab(client)
    client.post("/api/playground/new", json={"config": {"hidden": [8, 8], "activation": "relu"}}, headers=headers)
    client.post("/api/playground/step", json={"steps": 5}, headers=headers)
    assert client.post("/api/playground/graph", json={"run": 0}, headers=headers).json()["url"] == "/"
    graph = client.get("/api/explorer", headers=headers).json()
    assert graph["source"]["kind"] == "module" and "training step 6" in graph["source"]["title"]
    boxes = [n for n in graph["graph"]["nodes"] if n["kind"] == "module"]
    assert [b["label"] for b in boxes] == ["Linear(2→8)", "ReLU", "Linear(8→8)", "ReLU", "Linear(8→2)"]
    assert not graph["source"]["editable"]
    opened = client.post("/api/explorer/expand", json={"module": "0", "expanded": True}, headers=headers).json()
    drawn = opened["graph"]["layout"]["nodes"]
    assert "m:0" not in drawn and any(n["name"] == "0.weight" and n["id"] in drawn for n in opened["graph"]["nodes"])
    assert [c["id"] for c in opened["graph"]["layout"]["clusters"]] == ["f:0"]
    refused = client.post("/api/explorer/value", json={"name": "x", "value": 1}, headers=headers)
    assert "cannot be changed" in refused.json()["error"]


def test_playground_bounds_divergence_and_side_by_side_activations():
    deep = Playground(
        Config.from_json(
            {
                "dataset": "moons",
                "hidden": [16] * 10,
                "activation": "sigmoid",
                "compare": "relu",
                "optimizer": "sgd",
                "lr": 0.1,
            }
        )
    )
    sigmoid, relu = (run.grad_norms for run in deep.runs)
    assert len(sigmoid) == len(relu) == 11
    assert sigmoid[0] / sigmoid[-1] < 1e-3 and relu[0] / relu[-1] > 1e-1  # gradients vanish through sigmoids only
    wild = Playground(Config.from_json({"dataset": "spiral", "hidden": [64, 64], "optimizer": "sgd", "lr": 10}))
    for _ in range(40):
        if all(run.diverged for run in wild.runs):
            break
        wild.train(50)
    if wild.runs[0].diverged:  # a learning rate of 10 may blow up; the message says what to do
        assert "lower it and press New" in wild.runs[0].diverged
        with pytest.raises(PlaygroundError, match="lower it"):
            wild.train(1)
    state = deep.state(with_data=True)
    assert len(state["runs"][0]["boundary"]["classes"]) == state["grid"] ** 2
    assert len(state["data"]["train"]["x"]) + len(state["data"]["val"]["x"]) == 200  # the default number of points


def test_model_views_handle_non_finite_values_and_large_arrays():
    view = array_view(np.array([1.0, np.nan, np.inf, -np.inf]))
    assert view["values"] == [1.0, "NaN", "Infinity", "-Infinity"] and view["stats"]["max"] == 1.0
    big = array_view(np.arange(100 * 50, dtype=float).reshape(100, 50))
    assert "values" not in big and big["heat"]["rows"] == 24 and big["heat"]["cols"] == 24 and not big["heat"]["exact"]
    x = engine.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(400):
        y = y * 1.0001
    with pytest.raises(GraphTooLarge, match="more than the page can show"):
        graph_model(y)


def test_sources_from_python(client):
    def poly(a, b):
        return (a * b + b**2).sum()

    source = CallableSource(poly, {"a": [1.0, 2.0], "b": 3.0})
    assert source.editable and source.title == "poly(a, b)"
    app = TestClient(create_app(lambda: source), base_url="http://127.0.0.1")
    headers = tab(app)
    changed = app.post("/api/explorer/value", json={"name": "a", "index": 1, "value": -1.0}, headers=headers).json()
    assert changed["values"]["a"] == [1.0, -1.0]
    assert tensor(changed["graph"], "b")["grad"]["values"] == [pytest.approx(0.0 + 2 * 3 * 2)]  # a.sum() + 2b·2
    nudge = app.post("/api/explorer/nudge", json={"name": "a", "index": 0, "h": 1e-6}, headers=headers).json()
    assert nudge["nudge"]["slope"] == pytest.approx(3.0, rel=1e-6)

    engine.manual_seed(0)
    model = nn.MLP(2, [4], 1)
    loss = model(engine.randn(3, 2)).sum()
    fixed = TestClient(create_app(lambda: TensorSource(loss, model)), base_url="http://127.0.0.1")
    answer = fixed.get("/api/explorer").json()
    assert answer["source"]["kind"] == "tensor" and not answer["source"]["editable"]
    names = {n["name"] for n in answer["graph"]["nodes"] if n["kind"] == "tensor"}
    assert {"0.weight", "0.bias", "2.weight"} <= names
    loss.backward()  # a graph of learning size keeps what backward did: the explorer shows it
    assert graph_model(loss) is not None


def test_viz_explore_serves_a_function_and_stops():
    import viz

    explorer = viz.explore(lambda a: (a * a).tanh(), a=0.5, open_browser=False, block=False)
    try:
        import httpx2

        answer = httpx2.get(explorer.url + "api/explorer", timeout=10).json()
        assert tensor(answer["graph"], "a")["grad"]["values"][0] == pytest.approx(2 * 0.5 * (1 - math.tanh(0.25) ** 2))
    finally:
        explorer.stop()
    assert not explorer.thread.is_alive()
    with pytest.raises(TypeError, match="keyword values"):
        viz.explore(lambda a: a, open_browser=False, block=False)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_dagrad_serve_prints_its_address_and_ctrl_c_leaves_no_process():
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "demos.cli", "serve", "--no-open", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = server.stdout.readline()
        assert line.startswith(f"dagrad explorer: http://127.0.0.1:{port}/"), line
        busy = subprocess.run(
            [sys.executable, "-m", "demos.cli", "serve", "--no-open", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert busy.returncode == 2 and f"port {port} on 127.0.0.1 is already in use" in busy.stderr
        assert busy.stderr.count("\n") == 1  # one line, no traceback
        server.send_signal(signal.SIGINT)
        assert server.wait(timeout=30) == 0
        assert "dagrad explorer stopped" in server.stderr.read()
    finally:
        if server.poll() is None:
            server.kill()
    with socket.socket() as sock:  # the port is free again: nothing is left listening
        sock.bind(("127.0.0.1", port))


def test_serve_on_another_interface_warns(capsys, monkeypatch):
    from viz.explore import server

    monkeypatch.setattr(server.uvicorn.Server, "run", lambda self, sockets=None: None)
    server.serve(host="0.0.0.0", port=0, open_browser=False)
    assert "warning: serving on 0.0.0.0" in capsys.readouterr().out
    with pytest.raises(server.ServerError, match="cannot use the host"):
        server.bind("no-such-host.invalid", 0)
