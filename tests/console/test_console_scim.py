"""The console's SCIM tokens page: the account's tokens, never their values, never another's."""

from __future__ import annotations

from enabley.scim import tokens
from tests import factories


def test_the_page_lists_the_accounts_tokens_and_only_theirs(db, browser, sign_in):
    a, b = factories.make_account(db, sub_accounts=["EU"]), factories.make_account(db)
    mine, secret = tokens.create_token(db, a.name, "EU", None)
    revoked, _ = tokens.create_token(db, a.name, None, None)
    tokens.revoke_token(db, revoked.public_id)
    theirs, _ = tokens.create_token(db, b.name, None, None)
    sign_in(a)
    page = browser.get("/console/scim").text
    assert mine.public_id in page and revoked.public_id in page
    assert theirs.public_id not in page
    assert secret not in page, "a token's value is never shown again"
    assert page.count("revoked ") == 1 and "EU" in page


def test_a_sub_account_console_user_sees_no_tokens(db, browser, sign_in):
    account = factories.make_account(db, sub_accounts=["EU"])
    sign_in(account, "EU")
    assert browser.get("/console/scim").status_code == 404
