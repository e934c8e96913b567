"""What a first upload gets wrong: a form or a bare CSV file instead of JSON, a wrongly named file."""

from __future__ import annotations

import pytest

from tests.uploads.helpers import URL


def _refusal(response) -> str:
    assert response.status_code == 400, response.text
    body = response.json()
    assert (body["error"], body["errors"], body["moreErrors"]) == ("invalid_request", [], 0)
    return body["error_description"]


def test_a_multipart_upload_is_told_to_send_json_with_the_files_inside(client, headers):
    files = {"users": ("users.csv", b"identifier,email\nana-1,ana@example.com\n", "text/csv")}
    description = _refusal(client.post(URL, files=files, headers=headers))
    assert "multipart/form-data" in description
    assert "application/json" in description
    assert '{"files": [{"fileName": "groups.csv", "content": ' in description
    assert client.get("/api/v2/users/ana-1", headers=headers).status_code == 404


@pytest.mark.parametrize("content_type", ["text/csv", "text/plain", None])
def test_a_bare_csv_upload_is_told_the_shape(client, headers, content_type):
    sent = {**headers, **({"Content-Type": content_type} if content_type else {})}
    description = _refusal(
        client.post(URL, content=b"identifier,email\nana-1,ana@example.com\n", headers=sent)
    )
    assert "Content-Type" in description
    assert "JSON body" in description
    assert '"fileName": "users.csv"' in description


def test_a_wrongly_named_file_is_an_unknown_file_not_a_bad_row(client, headers):
    files = [{"fileName": "people.csv", "content": "identifier\nana-1\n"}]
    response = client.post(URL, json={"files": files}, headers=headers)
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["error_description"] == (
        "Unknown file 'people.csv': expected groups.csv or users.csv; nothing was written"
    )
    assert [(e["file"], e["line"]) for e in body["errors"]] == [("people.csv", None)]
