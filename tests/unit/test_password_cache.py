"""Verified passwords are remembered, so scrypt runs once per agency and password."""

from gateway.hub import authentication
from gateway.hub.authentication import PasswordCache
from gateway.security.passwords import hash_password


def test_a_verified_password_skips_scrypt_next_time(monkeypatch):
    stored = hash_password("đúng")
    calls = []
    real = authentication.verify_password
    monkeypatch.setattr(
        authentication, "verify_password", lambda p, s: calls.append(p) or real(p, s)
    )
    cache = PasswordCache()
    assert cache.verify("000.00.00.G12", "đúng", stored)
    assert cache.verify("000.00.00.G12", "đúng", stored)
    assert calls == ["đúng"]
    assert not cache.verify("000.00.00.G12", "sai", stored)
    assert not cache.verify("000.00.00.G12", "đúng", hash_password("mới"))  # password changed


def test_the_cache_stays_bounded():
    stored = hash_password("pw")
    cache = PasswordCache(size=2)
    for code in ("A1", "A2", "A3"):
        cache.verify(code, "pw", stored)
    assert len(cache._known) == 2


def test_the_password_that_verified_last_vouches_for_its_agency():
    cache = PasswordCache(size=2)
    assert not cache.vouches_for("A1", "pw")  # nothing verified yet
    cache.verify("A1", "pw", hash_password("pw"))
    assert cache.vouches_for("A1", "pw")
    assert not cache.vouches_for("A1", "other") and not cache.vouches_for("A2", "pw")
    cache.verify("A1", "new", hash_password("new"))
    assert cache.vouches_for("A1", "new") and not cache.vouches_for("A1", "pw")
    for code in ("A2", "A3"):
        cache.verify(code, "pw", hash_password("pw"))
    assert len(cache._latest) == 2 and not cache.vouches_for("A1", "new")
