"""Label Studio helpers that need no server: task ids, selection, certainty, server settings,
credentials and key files. (Everything that talks to a server is in tests/integration.)"""

import os
import stat

import pytest

from classify import labelstudio as ls
from classify.errors import ClassifyError, LabelStudioError
from classify.types import Document, Segment


def _task(doc, index, text, score=None):
    t = {"data": {"seg_id": ls.segment_id(doc, index, text), "text": text}}
    if score is not None:
        t["predictions"] = [{"score": score}]
    return t


def test_segment_id_is_stable_and_changes_with_the_text():
    a = ls.segment_id("brief.txt", 3, "Vraag?\n\nAntwoord.")
    assert a == ls.segment_id("brief.txt", 3, "Vraag?\n\nAntwoord.")
    assert a.startswith("brief.txt#3-") and len(a.split("-")[-1]) == 12
    assert a != ls.segment_id("brief.txt", 3, "Vraag?\n\nAntwoord!")
    assert a != ls.segment_id("brief.txt", 4, "Vraag?\n\nAntwoord.")


def test_task_data_has_segment_fields_title_text_and_id():
    doc = Document(doc_id="b.txt", path="/x/b.txt", text="", title="Antwoorden Kamervragen")
    seg = Segment("b.txt", 2, "qa", "Waarom?", "Daarom.", question_numbers=(2, 3), party="CDA")
    d = ls.task_data(doc, seg)
    assert d["seg_id"] == ls.segment_id("b.txt", 2, "Waarom?\n\nDaarom.")
    assert (d["doc"], d["seg"], d["doc_title"], d["text"]) == ("b.txt", 2, "Antwoorden Kamervragen",
                                                                "Waarom?\n\nDaarom.")
    assert d["question_numbers"] == [2, 3] and d["party"] == "CDA" and d["heading"] == ""


def test_select_skips_known_and_repeated_segments_in_document_order():
    tasks = [_task("a", 1, "x"), _task("a", 2, "y"), _task("a", 1, "x"), _task("b", 1, "z")]
    known = {tasks[1]["data"]["seg_id"]}
    chosen = ls.select_tasks(tasks, existing=known)
    assert [t["data"]["text"] for t in chosen] == ["x", "z"]
    assert [t["data"]["text"] for t in ls.select_tasks(tasks, limit=2)] == ["x", "y"]


def test_select_uncertain_puts_the_least_sure_first_and_needs_predictions():
    tasks = [_task("a", 1, "p", 0.9), _task("a", 2, "q", 0.1), _task("a", 3, "r", 0.5), _task("a", 4, "s", 0.1)]
    assert [t["data"]["text"] for t in ls.select_tasks(tasks, order="uncertain", limit=3)] == ["q", "s", "r"]
    with pytest.raises(ClassifyError, match="--model"):
        ls.select_tasks([_task("a", 1, "p")], order="uncertain")
    with pytest.raises(ClassifyError, match="--limit"):
        ls.select_tasks(tasks, limit=-1)


def test_certainty_is_zero_on_a_threshold_and_one_at_the_extremes():
    th = {"a": 0.4, "b": 0.5}
    assert ls.certainty({"a": 0.4, "b": 1.0}, th) == pytest.approx(0.0)
    assert ls.certainty({"a": 0.0, "b": 1.0}, th) == pytest.approx(1.0)
    assert ls.certainty({"a": 0.7, "b": 0.0}, th) == pytest.approx(0.5)  # (0.7-0.4)/(1-0.4)
    assert ls.certainty({"a": 0.1, "b": 0.0}, th) == pytest.approx(0.75)  # (0.4-0.1)/0.4


def test_server_env_is_local_offline_and_drops_stray_settings(tmp_path):
    base = {"PATH": "/bin", "HOST": "0.0.0.0", "PORT": "80", "USERNAME": "me", "PASSWORD": "x",
            "LABEL_STUDIO_BASE_DATA_DIR": "/elsewhere"}
    env = ls.server_env(base, data_dir=tmp_path, username="u@x.org", password="pw", token="tok123")
    assert env["PATH"] == "/bin"
    assert not {"HOST", "PORT", "USERNAME", "PASSWORD"} & set(env)
    assert env["LABEL_STUDIO_BASE_DATA_DIR"] == str(tmp_path.absolute())
    assert (env["LABEL_STUDIO_USERNAME"], env["LABEL_STUDIO_PASSWORD"], env["LABEL_STUDIO_USER_TOKEN"]) == (
        "u@x.org", "pw", "tok123")
    for k, v in {"LATEST_VERSION_CHECK": "false", "COLLECT_ANALYTICS": "false", "SENTRY_DSN": "",
                 "ML_BLOCK_LOCAL_IP": "false", "SSRF_PROTECTION_ENABLED": "false"}.items():
        assert env[k] == v


def test_server_command_binds_to_localhost(tmp_path):
    if not os.path.exists(ls.label_studio_executable()):
        pytest.skip("label-studio not installed")
    cmd = ls.server_command(tmp_path, 8123)
    assert cmd[1] == "start"
    assert cmd[cmd.index("--internal-host") + 1] == "127.0.0.1"
    assert cmd[cmd.index("--port") + 1] == "8123"
    assert "--no-browser" in cmd and "--enable-legacy-api-token" in cmd


def test_credentials_are_private_and_kept(tmp_path):
    creds = ls.load_or_create_credentials(tmp_path / "data", "anna@example.org")
    path = tmp_path / "data" / ls.CREDENTIALS_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert creds["username"] == "anna@example.org" and len(creds["token"]) >= 20
    assert ls.load_or_create_credentials(tmp_path / "data") == creds
    assert ls.read_api_key_file(path) == creds["token"]


def test_a_database_without_credentials_is_refused(tmp_path):
    (tmp_path / ls.DATABASE_FILE).write_bytes(b"")
    with pytest.raises(LabelStudioError, match="no classify-credentials.json"):
        ls.load_or_create_credentials(tmp_path)


def test_api_key_file_forms(tmp_path):
    plain = tmp_path / "key"
    plain.write_text("abc123\n")
    assert ls.read_api_key_file(plain) == "abc123"
    bad = tmp_path / "bad.json"
    bad.write_text('{"user": 1}')
    with pytest.raises(LabelStudioError, match="'token'"):
        ls.read_api_key_file(bad)
    with pytest.raises(LabelStudioError, match="cannot read"):
        ls.read_api_key_file(tmp_path / "missing")


def test_connect_needs_a_key_and_an_http_url(monkeypatch):
    monkeypatch.delenv("LABEL_STUDIO_API_KEY", raising=False)
    monkeypatch.setenv("LABEL_STUDIO_URL", "http://127.0.0.1:9")
    with pytest.raises(LabelStudioError, match=r"no API key for Label Studio at http://127\.0\.0\.1:9"):
        ls.connect()
    with pytest.raises(LabelStudioError, match="not an http"):
        ls.connect("localhost:8080", "key")
