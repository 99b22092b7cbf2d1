"""mlarena_sync.tokens: the token grammar, redaction and the https-or-loopback rule, as tables.

The review found these rules written three and four times, with copies that disagreed:
``mlk_user2_abc_secret`` was accepted by one grammar and refused by another, ``http://127.0.0.2``
passed one loopback check and failed another. Both cases are rows below.
"""

from __future__ import annotations

import pytest

from mlarena_sync.config.model import validate_server
from mlarena_sync.errors import AuthError, ConfigError
from mlarena_sync.tokens import (
    Redactor,
    TokenParts,
    check_url,
    is_loopback_host,
    looks_like_token,
    mask_token_like,
    parse_token,
    redact,
)

GOOD_TOKENS = [
    ("mlk_user_abc_secret", TokenParts("user", "abc")),
    ("mlk_creator_x_y", TokenParts("creator", "x")),
    ("mlk_teacher_AB-12_s3cr3t", TokenParts("teacher", "AB-12")),
    ("mlk_user_abc_se_cr_et", TokenParts("user", "abc")),  # split on the first three `_`
    ("mlk_user_abc_!#$%&*+/=?^`{|}~", TokenParts("user", "abc")),
]
BAD_TOKENS = [
    "",
    "mlk_user2_abc_secret",  # scope: user, creator or teacher only
    "mlk_admin_abc_secret",
    "mlk_User_abc_secret",
    "MLK_user_abc_secret",
    "mlk_user_abc",
    "mlk_user_abc_",
    "mlk__abc_secret",
    "mlk_user__secret",
    "mlk_user_a.b_secret",
    "xyz_user_abc_secret",
    " mlk_user_abc_secret",
    "mlk_user_abc_secret\n",
    "mlk_user_abc_sec ret",
    "mlk_user_abc_sécret",
    "Bearer mlk_user_abc_secret",
]


@pytest.mark.parametrize(("token", "parts"), GOOD_TOKENS)
def test_the_grammar_accepts(token: str, parts: TokenParts) -> None:
    assert parse_token(token) == parts
    assert looks_like_token(token)


@pytest.mark.parametrize("token", BAD_TOKENS)
def test_the_grammar_refuses_without_quoting_the_token(token: str) -> None:
    with pytest.raises(AuthError) as info:
        parse_token(token, source="MLARENA_API_KEY")
    message = str(info.value)
    assert "malformed" in message and "from MLARENA_API_KEY" in message
    if token.strip():
        assert token.strip() not in message


def test_masked_keeps_scope_and_lookup_only() -> None:
    assert parse_token("mlk_creator_x_y").masked == "mlk_creator_x_***"


LOOPBACK = [
    ("localhost", True),
    ("LOCALHOST", True),
    ("127.0.0.1", True),
    ("127.0.0.2", True),  # all of 127.0.0.0/8
    ("127.255.255.254", True),
    ("::1", True),
    ("[::1]", True),
    ("0.0.0.0", False),
    ("::", False),
    ("128.0.0.1", False),
    ("192.168.1.2", False),
    ("localhost.example.com", False),
    ("example.org", False),
    ("", False),
    (None, False),
]


@pytest.mark.parametrize(("host", "loopback"), LOOPBACK)
def test_loopback_hosts(host: str | None, loopback: bool) -> None:
    assert is_loopback_host(host) is loopback


URLS = [
    ("https://ml-arena.com", True),
    ("https://ml-arena.com:8443/base/", True),
    ("  https://ml-arena.com  ", True),
    ("http://localhost:7000", True),
    ("http://127.0.0.1:1", True),
    ("http://127.0.0.2:8000", True),
    ("http://[::1]:8000", True),
    ("HTTP://127.0.0.1", True),
    ("http://ml-arena.com", False),
    ("http://192.168.1.2", False),
    ("http://0.0.0.0:8000", False),
    ("http://localhost.evil.example", False),
    ("ftp://ml-arena.com", False),
    ("ml-arena.com", False),
    ("https://", False),
    ("https://user:pass@ml-arena.com", False),
    ("http://[::1", False),
]


@pytest.mark.parametrize(("url", "ok"), URLS)
def test_https_or_loopback(url: str, ok: bool) -> None:
    if ok:
        assert check_url(url) == url.strip()
    else:
        with pytest.raises(ConfigError):
            check_url(url)


@pytest.mark.parametrize(("url", "ok"), URLS)
def test_the_config_applies_the_same_rule(url: str, ok: bool) -> None:
    if ok:
        assert validate_server(url, source="--server") == url.strip().rstrip("/")
    else:
        with pytest.raises(ConfigError, match="--server"):
            validate_server(url, source="--server")


def test_plain_http_message_names_the_host_and_https() -> None:
    with pytest.raises(ConfigError) as info:
        check_url("http://arena.example.invalid")
    assert "arena.example.invalid" in info.value.message and "https" in info.value.message


def test_redact_masks_the_token_and_its_secret() -> None:
    token = "mlk_user_ab12_topsecret_value"
    out = redact(f"sent {token}; echoed topsecret_value; Bearer {token}", token)
    assert "topsecret_value" not in out
    assert out.count("mlk_user_ab12_***") == 2
    assert redact("nothing here", None) == "nothing here"
    assert redact("x garbage y", "garbage") == "x *** y"


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("key mlk_user_abc_s3cr3t_x end", "key mlk_user_abc_*** end"),
        ("key=mlk_user2_abc_secret", "key=mlk_user2_abc_***"),  # any scope is masked
        ("mlk_user_..._hint", "mlk_user_..._hint"),
        ("no token", "no token"),
    ],
)
def test_anything_shaped_like_a_token_is_masked(text: str, masked: str) -> None:
    assert mask_token_like(text) == masked


def test_redactor_masks_registered_secrets_nested_values_and_token_shapes() -> None:
    red = Redactor(["plain-secret-value"])
    event = red(None, "info", {"a": ["plain-secret-value"], "b": {"c": "mlk_teacher_q_zz"}})
    assert event == {"a": ["***"], "b": {"c": "mlk_teacher_q_***"}}
    assert red(None, "info", "line plain-secret-value") == "line ***"
