"""The upload's body read as a stream answers exactly what Pydantic answered for the body whole.

The reference is the request model validating the whole body (``model_validate_json``), which is
how the upload read its body before: the same files and texts for a good body, the same error
description (down to the line and byte column of a syntax error) for a bad one, whatever the
size of the blocks the body is read in.
"""

from __future__ import annotations

import io
import json
import random

import pytest
from pydantic import ValidationError

from enabley.errors import describe_validation_error
from enabley.uploads import body, service
from enabley.uploads.schemas import ExternalOrgBulkUploadRequest
from tests.uploads.helpers import URL, refused

BLOCKS = (1, 2, 3, 7, 64, body.BLOCK)


def whole(raw: bytes) -> tuple[str, object]:
    """What validating the whole body answers: the files, or the error description."""
    try:
        request = ExternalOrgBulkUploadRequest.model_validate_json(raw)
    except ValidationError as exc:
        return "refused", describe_validation_error(exc.errors())
    return "files", [(f.file_name, f.content) for f in request.files]


def streamed(raw: bytes, block: int) -> tuple[str, object]:
    with body.Contents() as contents:
        try:
            files = body.read_request(io.BytesIO(raw), contents, block=block)
        except body.MalformedJson as exc:
            error = {"type": "json_invalid", "ctx": {"error": str(exc)}}
            return "refused", describe_validation_error([error])
        except ValidationError as exc:
            return "refused", describe_validation_error(exc.errors())
        texts = []
        for name, text in files:
            with text.open() as stream:
                texts.append((name, stream.read()))
        return "files", texts


def assert_same(raw: bytes, blocks=BLOCKS) -> None:
    expected = whole(raw)
    for block in blocks:
        assert streamed(raw, block) == expected, (block, raw[:300])


GOOD = [
    json.dumps(
        {"files": [{"fileName": "users.csv", "content": 'identifier,firstName\nu-1,"Bo, ""x"" \\ y"\r\n'}]}
    ),
    json.dumps(
        {
            "files": [
                {"fileName": "groups.csv", "content": "é😀\u00e9中\u2028" * 40},
                {"file_name": "x", "content": "", "extra": [1, 2.5e3, None, True, {"a": "b"}]},
            ]
        },
        ensure_ascii=False,
    ),
    json.dumps({"files": [{"fileName": "a", "content": '😀\\"\t\u0001\u007f' * 30}]}, ensure_ascii=True),
    '{"files": [{"fileName": "u", "content": "a\\ud83d\\ude00b\\u00e9\\/\\b\\f"}], "x": -0.5e-3, "y": NaN, '
    '"z": [Infinity, -Infinity, 1E+2, 0, -0.0]}',
    ' \n{ "files" :\r\n[ { "content" : "x" , "fileName" : "y" } ] }\n ',
    '{"fi\\u006ces": [{"file\\u004eame": "x", "content": ""}], "files2": "\\ud83d\\ude00"}',
    '{"files": [], "files": [{"fileName": "later", "content": "wins"}]}',
    '{"files": [{"file_name": "a", "fileName": "b", "content": "1", "content": "2"}]}',
    "\ufeff",  # a byte order mark is not JSON
]

BAD = [
    b"",
    b" ",
    b"\n",
    b"not json",
    b"[]",
    b'"x"',
    b"null",
    b"{}",
    b"{",
    b"{ ",
    b'{"files"',
    b'{"files"  ',
    b'{"files":',
    b'{"files":\n\n',
    b'{"files": [',
    b'{"files": [1,',
    b'{"files": [1,]}',
    b'{"files": [], }',
    b'{"files": [] ,',
    b'{"files": []} x',
    b'{"files": []}\n\n  x',
    b'{"files": [],\n}',
    b"{1: 2}",
    b"{,}",
    b"[,]",
    b'{"a":1, 2}',
    b'{"files" 1}',
    b'{"files": [] "x"}',
    b'{"files": [1 2]}',
    b'{"files": [{"a": 1}}]}',
    b'{"files": [{"fileName": "users.csv"}]}',
    b'{"files": [{}]}',
    b'{"files": null}',
    b'{"files": [null]}',
    b'{"files": [{"fileName": 1, "content": true}]}',
    b'{"files": [{"fileName": "x", "content": {"a": [1]}}]}',
    b'{"files": 01}',
    b'{"files": -01}',
    b'{"files": -}',
    b'{"files": -a}',
    b'{"files": 1e}',
    b'{"files": 1e+}',
    b'{"files": 1.}',
    b'{"files": 1.e5}',
    b'{"files": .5}',
    b'{"files": +1}',
    b'{"files": 0x1}',
    b'{"files": 1',
    b'{"files": 1.',
    b'{"files": tru}',
    b'{"files": truex}',
    b'{"files": nul}',
    b'{"files": nu',
    b'{"files": Nan}',
    b'{"files": -NaN}',
    b'{"files": -Inf}',
    b'{"files": Infx}',
    b'{"files": 1' + b"0" * 4300 + b"}",
    b'{"files": 1' + b"0" * 4301 + b"}",
    b'{"files": -1' + b"0" * 4305 + b".5}",
    b'{"files": 1' + b"0" * 4300,
    b'{"a\\x": 1}',
    b'{"files": [{"content": "a\\qb"}]}',
    b'{"files": [{"content": "a\x01b"}]}',
    b'{"files": [{"fileName": "x", "content": "a\nb"}]}',
    b'{"files": "\\ud800"}',
    b'{"files": "\\ud800x"}',
    b'{"files": "\\ud800\\u0041"}',
    b'{"files": "\\ud800\\x"}',
    b'{"files": "\\ud800\\"}',
    b'{"files": "\\ud800\\u00"}',
    b'{"files": "\\ud800\\uZ"}',
    b'{"files": "\\ud800\\udc0g"}',
    b'{"files": "\\udc00"}',
    b'{"files": "\\u12"}',
    b'{"files": "\\uZZZZ"}',
    b'{"files": "\\u',
    b'{"files": "ab\\',
    b'{"files": "ab',
    b'{"files": [{"content": "\xff"}]}',
    b'{"files": [{"content": "ab\xe2\x82x"}]}',
    b'{"files": [{"content": "\xed\xa0\x80"}]}',
    b'{"files": [{"content": "\xc0\x80"}]}',
    b'{"files": [{"content": "\\n\\n\\ud83d\\ude00\xff"}]}',
    b'{"files": "\\q\xff"}',
    b'{"files": "\xff\\q"}',
    b'{"files": "\xff\x01"}',
    b'{"files": "\xffabc',
    b'{"files": "\xff" x}',
    b'{"\xff": 1}',
    b"\xef\xbb\xbf{}",
    b"\r\n\r\n{[}",
    b"[" * 201 + b"]" * 201,
    b"[" * 202 + b"]" * 202,
    b'{"x": ' + b"[" * 200 + b"]" * 200 + b"}",
    b'{"x": ' + b"[" * 201 + b"]" * 201 + b"}",
    b'{"x": ' + b'{"a":' * 200 + b"1" + b"}" * 200 + b"}",
    b'{"files": [{"fileName": "x", "content": [' + b"[" * 198 + b"]" * 198 + b"]}]}",
]


@pytest.mark.parametrize("raw", [g.encode() for g in GOOD] + BAD, ids=range(len(GOOD) + len(BAD)))
def test_the_same_answer_as_the_whole_body_validated(raw):
    assert_same(raw)


def test_the_same_answer_for_bodies_broken_at_random():
    rnd = random.Random(20261206)
    alphabet = list(b'"\\{}[],: \n\r\t\x01\x7f\xff\xc3\xa9\xed\xa0ud8D0aeE.-+1tnfNI')
    pieces = [b"\\u", b"\\ud800", b"\\udc00", b"\\ud83d\\ude00", b"\\", b'"', b"[", b"{"]
    for good in GOOD:
        for _ in range(150):
            raw = bytearray(good.encode())
            for _ in range(rnd.choice((1, 1, 2, 3))):
                at = rnd.randrange(len(raw) + 1)
                roll = rnd.random()
                if roll < 0.25 and raw:
                    del raw[min(at, len(raw) - 1)]
                elif roll < 0.5:
                    raw.insert(at, rnd.choice(alphabet))
                elif roll < 0.7 and at < len(raw):
                    raw[at] = rnd.choice(alphabet)
                elif roll < 0.85:
                    del raw[at:]
                else:
                    raw[at:at] = rnd.choice(pieces)
            assert_same(bytes(raw), blocks=(1, 3, 64, body.BLOCK))


@pytest.mark.parametrize("pad", range(14))
def test_a_long_text_is_decoded_whole_across_blocks(pad):
    """Escapes, surrogate pairs and characters of several bytes fall on every side of the
    boundaries between blocks and between the parts of a string decoded at once."""
    unit = 'a\\"é\n\t😀\\\\中\u2028/\r'
    content = "x" * pad + unit * 40_000
    for ensure_ascii in (True, False):
        raw = json.dumps(
            {"files": [{"fileName": "users.csv", "content": content}]}, ensure_ascii=ensure_ascii
        )
        assert_same(raw.encode(), blocks=(4093, body.BLOCK))


def test_more_files_than_an_upload_takes_are_refused_whatever_they_hold(client, headers):
    entries = [{"fileName": f"f{i}.csv", "content": "x" * 1000} for i in range(body.MAX_FILES + 1)]
    r = client.post(URL, json={"files": entries}, headers=headers)
    assert refused(r) == []
    assert (
        r.json()["error_description"] == f"Invalid value for 'files': at most {body.MAX_FILES} files, not 101"
    )
    entries.pop()
    r = client.post(URL, json={"files": entries}, headers=headers)
    assert len(refused(r)) == body.MAX_FILES
    assert r.json()["errors"][0]["message"] == "Unknown file 'f0.csv': expected groups.csv or users.csv"


def test_a_body_is_read_through_the_service_as_it_was():
    raw = json.dumps(
        {"files": [{"fileName": "users.csv", "content": "\ufeffidentifier\r\nu-1\r\n"}]}
    ).encode()
    with service.read_files(io.BytesIO(raw)) as files:
        assert list(files) == ["users.csv"]
        assert list(files["users.csv"].rows()) == [(2, ["u-1"])]
