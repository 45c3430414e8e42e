"""The service's parts on their own: the rate bound, the keys file, the writer's groups."""

from __future__ import annotations

import collections
import os
import time

import pytest

from wzmedins.service.auth import KeyFileError, KeyStore, add_key, hash_key
from wzmedins.service.guard import RateLimit
from wzmedins.service.writer import Inbox, Writer


def test_rate_limit_bursts_then_refuses():
    limit = RateLimit(rate=1, burst=3)
    assert [limit.allow("H1") for _ in range(4)] == [True, True, True, False]
    assert limit.allow("H2")  # per institution
    time.sleep(1.1)
    assert limit.allow("H1")


def test_keys_are_hashed_and_reloaded(tmp_path):
    path = tmp_path / "keys.toml"
    old = add_key(path, code="H1", hosp_lv="02")
    assert old not in path.read_text() and hash_key(old) in path.read_text()
    store = KeyStore(path)
    assert store.institution(old).hosp_lv == "02"
    new = add_key(path, code="H1", replace=True)
    assert store.institution(old) is None and store.institution(new).code == "H1"
    path.write_text('[[institution]]\ncode = "H1"\nkeys = ["plain-text-key"]\n')
    with pytest.raises(KeyFileError, match="stored hashed"):
        KeyStore(path)
    os.utime(path)
    assert store.institution(new).code == "H1"  # a bad rewrite keeps the last good keys


def test_writer_groups_one_claim_per_person():
    writer = Writer.__new__(Writer)  # the grouping alone, without the thread or a ledger

    writer.max_group, writer._held, writer._queue = 3, collections.deque(), Inbox()
    for i, person in enumerate(["a", "a", "b", "c", "d", "b"]):
        writer._queue.put(type("J", (), {"claim": {"person_id": person, "i": i}})())
    group, _ = writer._next_group()
    assert [j.claim["i"] for j in group] == [0, 2, 3]
    group, _ = writer._next_group()
    assert [j.claim["i"] for j in group] == [1, 4, 5]  # the held claim first, in arrival order
