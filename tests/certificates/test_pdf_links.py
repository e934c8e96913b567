"""A certificate PDF link opens the certification it was issued for and nothing else, and the PDF
behind it is rendered once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from enabley.accounts import service as accounts_service
from enabley.certificates import pdf
from enabley.models import User
from tests import factories
from tests.certificates.helpers import complete, ok, pdf_text, put_certificate, state_of

BASE = "https://lms.example.test"
CERTIFIED_AT = datetime(2026, 3, 2, 9, tzinfo=UTC)


def assert_gone(client, path):
    response = client.get(path)
    shown = pdf_text(response.content) if response.status_code == 200 else response.text
    assert response.status_code == 404, f"{response.status_code}: {shown}"
    assert response.json()["error"] == "not_found"


def course(client, db, account, headers):
    """Course A with one item, and certificate cert-1 earned by completing it."""
    channel = factories.make_channel(db, account, "course-a")
    factories.make_channel_item(db, channel, "i1")
    ok(put_certificate(client, headers, courseIds=["course-a"]), 201)
    return channel


def certify(client, db, account, headers, channel, user="ana", *, first_name="Ana", last_name="Souza"):
    """A new learner of the course, certified in cert-1 on CERTIFIED_AT: the path of his link."""
    learner = factories.make_user(db, account, user, first_name=first_name, last_name=last_name)
    factories.enrol_user(db, channel, learner)
    complete(client, headers, user, "course-a", "i1", CERTIFIED_AT)
    path = state_of(client, headers, user=user)["pdfUrl"].removeprefix(BASE)
    response = client.get(path)
    assert response.status_code == 200, response.text
    assert f"{first_name} {last_name}" in pdf_text(response.content)
    return path


def built(client, db, auth, name, **learner):
    """An account with course A, certificate cert-1 and learner ana certified: his link's path."""
    account = factories.make_account(db, name)
    headers = auth(account)
    return certify(client, db, account, headers, course(client, db, account, headers), **learner)


def test_link_of_a_deleted_account_opens_nothing_in_the_account_built_after_it(client, db, auth):
    link = built(client, db, auth, "acme")
    accounts_service.delete_account(db, "acme")
    assert_gone(client, link)
    # The same account again, built the same way, whose learner of the same identifier is another.
    built(client, db, auth, "acme", first_name="Bia", last_name="Lima")
    assert_gone(client, link)


def test_link_of_a_deleted_user_opens_nothing_of_the_next_user(client, db, account, headers):
    channel = course(client, db, account, headers)
    link = certify(client, db, account, headers, channel)
    deleted = client.delete("/api/v2/users/ana", headers=headers)
    assert deleted.status_code == 200, deleted.text
    assert_gone(client, link)
    certify(client, db, account, headers, channel, "bob", first_name="Bob", last_name="Reis")
    assert_gone(client, link)


def test_link_follows_its_learner_through_a_change_of_identifier(client, db, account, headers):
    link = certify(client, db, account, headers, course(client, db, account, headers))
    db.execute(update(User).where(User.external_id == "ana").values(external_id="ana-2"))
    response = client.get(link)
    assert response.status_code == 200, response.text
    assert "Ana Souza" in pdf_text(response.content)


def test_link_of_a_certification_does_not_open_a_later_one(client, db, account, headers):
    link = certify(client, db, account, headers, course(client, db, account, headers))
    complete(client, headers, "ana", "course-a", "i1", CERTIFIED_AT, completed=False)
    assert_gone(client, link)
    complete(client, headers, "ana", "course-a", "i1", CERTIFIED_AT + timedelta(days=400))
    renewed = state_of(client, headers)
    assert (renewed["state"], renewed["certificationDate"]) == ("CERTIFIED", "2027-04-06T09:00:00.000Z")
    assert client.get(renewed["pdfUrl"].removeprefix(BASE)).status_code == 200
    assert_gone(client, link)


def test_repeated_fetches_of_a_link_render_its_pdf_once(client, db, account, headers, monkeypatch):
    renders: list[pdf.CertificateDocument] = []
    real = pdf.render_certificate

    def counting(document: pdf.CertificateDocument) -> bytes:
        renders.append(document)
        return real(document)

    monkeypatch.setattr(pdf, "render_certificate", counting)
    # Names no other test (nor this one on the other database) shows: the cache lives as long as
    # the process.
    first_name, renamed = factories.unique("Renata"), factories.unique("Twice")
    channel = course(client, db, account, headers)
    link = certify(client, db, account, headers, channel, first_name=first_name, last_name="Souza")
    first = client.get(link).content
    assert [client.get(link).content for _ in range(3)] == [first] * 3
    assert len(renders) == 1
    # What the PDF shows is its key: a new name is a new PDF.
    db.execute(update(User).where(User.external_id == "ana").values(last_name=renamed))
    assert f"{first_name} {renamed}" in pdf_text(client.get(link).content)
    assert len(renders) == 2


def test_rendered_pdfs_are_held_within_their_byte_budget():
    def document(n: int) -> pdf.CertificateDocument:
        return pdf.CertificateDocument(f"Learner {n}", "Forklift safety", CERTIFIED_AT, None)

    size = len(pdf.render_certificate(document(0)))
    cache = pdf.PdfCache(max_bytes=3 * size + size // 2)
    for n in range(6):
        assert cache.render(document(n)).startswith(b"%PDF")
        assert cache.bytes_held <= 3 * size + size // 2
    assert cache.cached(document(5)) is not None
    assert cache.cached(document(0)) is None
