"""Password hashing, API keys, credential encryption and the RBAC ladder."""

from __future__ import annotations

import base64
import itertools
import os

import pytest

from cloudoptima.domain.rbac import ROLE_ORDER, has_permission, permissions_for
from cloudoptima.security.api_keys import mint_api_key, split_api_key, verify_api_key
from cloudoptima.security.encryption import CredentialCipher, CredentialDecryptionError
from cloudoptima.security.passwords import hash_password, verify_password


def test_password_hash_verifies_and_rejects() -> None:
    hashed = hash_password("correct horse")
    assert hashed.startswith("$argon2id$")
    assert verify_password(hashed, "correct horse")
    assert not verify_password(hashed, "wrong horse")
    assert not verify_password("not-a-hash", "correct horse")


def test_short_password_refused() -> None:
    with pytest.raises(ValueError, match="at least 8"):
        hash_password("short")


def test_api_key_round_trip() -> None:
    key = mint_api_key()
    parts = split_api_key(key.plaintext)
    assert parts is not None
    prefix, secret = parts
    assert prefix == key.prefix
    assert secret not in key.key_hash
    assert verify_api_key(key.key_hash, secret)
    assert not verify_api_key(key.key_hash, secret + "x")
    assert split_api_key("garbage") is None


def test_credentials_encrypted_at_rest() -> None:
    cipher = CredentialCipher(base64.urlsafe_b64encode(os.urandom(32)).decode())
    token = cipher.encrypt({"client_secret": "s3cr3t"})
    assert "s3cr3t" not in token
    assert cipher.decrypt(token) == {"client_secret": "s3cr3t"}
    other = CredentialCipher(base64.urlsafe_b64encode(os.urandom(32)).decode())
    with pytest.raises(CredentialDecryptionError):
        other.decrypt(token)


def test_roles_inherit_in_order() -> None:
    for lower, higher in itertools.pairwise(ROLE_ORDER):
        assert set(permissions_for(lower)) <= set(permissions_for(higher)) or "*" in permissions_for(higher)
    assert has_permission("engineer", "apply:low_risk_recommendations")
    assert not has_permission("engineer", "apply:medium_risk_recommendations")
    assert has_permission("finops_manager", "apply:medium_risk_recommendations")
    assert not has_permission("finops_manager", "apply:high_risk_recommendations")
    assert has_permission("admin", "apply:high_risk_recommendations")
    assert not has_permission("viewer", "write:budgets")
