"""Claims for the cluster tests: synthetic claims and accounts with every rule that could
cross buckets — reversals (own, another person's, unknown, twice), duplicate claim ids
(within a person, across persons, after an invalid first occurrence) and bad rows."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa

from wzmedins import synth

N_PERSONS = 120


def claims_and_accounts(n: int = 3_000, *, seed: int = 5) -> tuple[pa.Table, pa.Table]:
    base = synth.claims(n, n_persons=N_PERSONS, seed=seed)
    accounts = synth.accounts(N_PERSONS, seed=seed)
    rows = base.cast(_plain(base.schema)).to_pylist()
    rng = np.random.default_rng(seed)
    for r in rows:
        r["reverses"] = None
    extra = []
    picks = rng.choice(len(rows), 40, replace=False)
    for k, i in enumerate(picks[:15]):  # own reversals, a day or more later
        o = rows[i]
        extra.append(_reversal(f"rv{k}", o["person_id"], o["settle_date"] + dt.timedelta(days=1 + k), o["claim_id"]))
    for k, i in enumerate(picks[15:22]):  # another person's claim, after it: REVERSAL_PERSON_MISMATCH
        o = rows[i]
        extra.append(
            _reversal(f"rx{k}", _other(o["person_id"]), o["settle_date"] + dt.timedelta(days=2), o["claim_id"])
        )
    for k, i in enumerate(picks[22:25]):  # another person's claim, before it: UNKNOWN_ORIGINAL
        o = rows[i]
        extra.append(
            _reversal(f"ry{k}", _other(o["person_id"]), o["settle_date"] - dt.timedelta(days=2), o["claim_id"])
        )
    extra.append(_reversal("rz0", rows[0]["person_id"], dt.date(2022, 12, 30), "no-such-claim"))
    o = rows[picks[0]]  # a second reversal of the first own-reversed claim: ALREADY_REVERSED
    extra.append(_reversal("rv-again", o["person_id"], dt.date(2022, 12, 31), o["claim_id"]))
    for i in picks[25:32]:  # the same claim id for another person, later: duplicates
        extra.append({**rows[i], "person_id": _other(rows[i]["person_id"]), "seq": 7})
    for i in picks[32:36]:  # an invalid first occurrence, then a valid one elsewhere
        bad = {**rows[i], "scheme": "navy"}
        rows[i] = {**rows[i], "claim_id": f"{rows[i]['claim_id']}-b"}
        extra.insert(0, {**bad, "claim_id": rows[i]["claim_id"], "person_id": _other(bad["person_id"])})
    for i in picks[36:38]:  # a reversal row reusing an ordinary claim's id (another person)
        extra.append(_reversal(rows[i]["claim_id"], _other(rows[i]["person_id"]), dt.date(2022, 12, 1), "rv1"))
    rows[picks[38]]["total_cost"] = -5
    rows[picks[39]]["person_id"] = None
    everything = extra[:4] + rows + extra[4:]
    order = rng.permutation(len(everything))
    schema = _plain(base.schema).append(pa.field("reverses", pa.string()))
    claims = pa.Table.from_pylist([everything[i] for i in order], schema=schema)
    return claims, accounts


def _plain(schema: pa.Schema) -> pa.Schema:
    return pa.schema(
        [pa.field(f.name, f.type.value_type if pa.types.is_dictionary(f.type) else f.type) for f in schema]
    )


def _other(person: str) -> str:
    """Another insured person of the same data set."""
    return f"WZ{(int(person[2:]) + 37) % N_PERSONS:010d}"


def _reversal(claim_id: str, person: str, day: dt.date, reverses: str) -> dict:
    return {"claim_id": claim_id, "person_id": person, "settle_date": day, "reverses": reverses}
