"""One claim, step by step (docs/rules/settlement.md §4), in plain Python.

Each step is a function of the claim ``c``, the profile's parameters ``p`` as written in the
file, the person-year state ``s`` (updated in place) and the claim's working values ``w``
(read and written). With a ``trace`` list, each step also appends what it did: the rule, the
parameter it read, the amount it produced and the accumulator before and after. The
explanation of a claim (:func:`wzmedins.explain`) is that trace: there is no second copy of
the arithmetic.
"""

from __future__ import annotations

from ..contract import ADMISSIONS, BP
from ..rounding import half_up
from ..vocab import FACILITY_LEVELS

POOL = {"outpatient": "outpatient", "chronic": "outpatient", "special": None, "inpatient": "inpatient"}


def rnd(n: int, d: int) -> int:
    """n / d rounded half up (n >= 0): docs/rules/settlement.md §1."""
    assert n >= 0 and d > 0
    return half_up(n, d)


def note(trace, step, rule, amount, param=None, value=None, acc=None, before=None, after=None, output=None):
    """Append one line of explanation (a no-op without a trace); ``output`` names the settled
    column the amount ends up in, if any."""
    if trace is not None:
        trace.append(
            {"step": step, "rule": rule, "parameter": param, "value": value, "amount": amount,
             "accumulator": acc, "before": before, "after": after, "output": output}
        )  # fmt: skip


def split(c, p, s, w, trace=None):
    """Step 0: the eligible amount E = total_cost - self_pay - class_b_self_pay."""
    w["eligible"] = c["total_cost"] - c["self_pay"] - c["class_b_self_pay"]
    note(trace, "split", "eligible = total_cost - self_pay - class_b_self_pay", w["eligible"], output="eligible")


def lookup(c, p, s, w, trace=None):
    """Step 1: the benefit group and the payment ratio (visit type, level, area)."""
    w["group"] = group = p["groups"][c["scheme"]][c["category"]]
    lv = FACILITY_LEVELS.index(c["facility_level"])
    visit = c["visit_type"]
    table = "ratio_outpatient" if visit in ("outpatient", "chronic") else "ratio_inpatient"
    ratio = p[table][group][lv]
    note(trace, "lookup", f"ratio of group {group} at a {c['facility_level']} facility", ratio,
         f"{table}.{group}", p[table][group])  # fmt: skip
    if visit == "chronic":
        ratio += p["chronic_bonus"]
        note(trace, "lookup", "chronic illness bonus added to the ratio", ratio, "chronic_bonus", p["chronic_bonus"])
    adjust = p["area_adjust"][c["area"]]
    w["ratio_bp"] = min(max(ratio + adjust, 0), BP)
    note(trace, "lookup", f"area adjustment ({c['area']}), ratio kept within 0..10000 bp", w["ratio_bp"],
         f"area_adjust.{c['area']}", adjust, output="ratio_bp")  # fmt: skip


def current_account(c, p, s, w, trace=None):
    """Step 2: the current-year personal account pays first, for listed schemes and visits."""
    acc = p["account"]
    w["account_current"] = 0
    if c["scheme"] in acc["schemes"] and c["visit_type"] in acc["current_first"]:
        before = s["current_balance"]
        w["account_current"] = min(w["eligible"], before)
        s["current_balance"] -= w["account_current"]
        note(trace, "current account", "current-year account pays min(eligible, balance)", w["account_current"],
             "account.current_first", acc["current_first"], "current_balance", before,
             s["current_balance"], output="account_current")  # fmt: skip
    else:
        note(trace, "current account", "the current-year account does not pay this scheme or visit type", 0,
             "account.current_first", acc["current_first"], output="account_current")  # fmt: skip
    w["after_account"] = w["eligible"] - w["account_current"]


def deductible(c, p, s, w, trace=None):
    """Step 3: the outpatient or inpatient deductible (起付), or none."""
    pool, group, e1 = POOL[c["visit_type"]], w["group"], w["after_account"]
    lv = FACILITY_LEVELS.index(c["facility_level"])
    d = 0
    if pool == "outpatient":
        before = s["outpatient_deductible_used"]
        d = min(e1, max(0, p["deductible_outpatient"][group] - before))
        s["outpatient_deductible_used"] += d
        note(trace, "deductible", "annual outpatient deductible, less what the year already used", d,
             f"deductible_outpatient.{group}", p["deductible_outpatient"][group],
             "outpatient_deductible_used", before, s["outpatient_deductible_used"], output="deductible")  # fmt: skip
    elif pool == "inpatient":
        before = s["inpatient_deductible_used"]
        mode = p["inpatient_deductible"]["mode"]
        if mode == "annual_highest_level":
            seen = [i for i, name in enumerate(FACILITY_LEVELS) if s[ADMISSIONS[name]] > 0]
            top = max([lv, *seen])
            d = min(e1, max(0, p["deductible_inpatient"][group][top] - before))
            rule = f"one inpatient deductible a year at the highest level ({FACILITY_LEVELS[top]}), less what was used"
            param, value = f"deductible_inpatient.{group}", p["deductible_inpatient"][group]
        else:
            k = sum(s[ADMISSIONS[name]] for name in FACILITY_LEVELS)
            factors = p["inpatient_deductible"]["per_admission_factors"]
            d = min(e1, rnd(p["deductible_inpatient"][group][lv] * factors[min(k, len(factors) - 1)], BP))
            rule = f"per-admission deductible times the factor of admission {k + 1} of the year"
            param, value = "inpatient_deductible.per_admission_factors", factors
        s["inpatient_deductible_used"] += d
        s[ADMISSIONS[c["facility_level"]]] += 1
        note(trace, "deductible", rule, d, param, value, "inpatient_deductible_used", before,
             s["inpatient_deductible_used"], output="deductible")  # fmt: skip
    else:
        note(trace, "deductible", f"no deductible for a {c['visit_type']} visit", 0, output="deductible")
    w["deductible"] = d


def fund_and_cap(c, p, s, w, trace=None):
    """Step 4: the pooled fund pays the ratio of what is above the deductible, up to its cap."""
    b = w["after_account"] - w["deductible"]
    raw = rnd(b * w["ratio_bp"], BP)
    before = s["fund_paid"]
    cap = p["fund_cap"][c["scheme"]]
    w["fund"] = min(raw, max(0, cap - before))
    s["fund_paid"] += w["fund"]
    w["coinsurance"], w["over_cap"] = b - raw, raw - w["fund"]
    note(trace, "fund and cap", f"fund pays {w['ratio_bp']} bp of {b} fen, within the annual cap", w["fund"],
         f"fund_cap.{c['scheme']}", cap, "fund_paid", before, s["fund_paid"], output="fund")  # fmt: skip
    note(trace, "fund and cap", "coinsurance: the part of the ratio the person pays", w["coinsurance"],
         output="coinsurance")  # fmt: skip
    note(trace, "fund and cap", "over the fund's annual cap", w["over_cap"], output="over_cap")
    w["in_scope_share"] = w["deductible"] + w["coinsurance"] + w["over_cap"]


def banded(u: int, deductible: int, bands: list[tuple[int | None, int]]) -> int:
    """G(u) of docs/rules/settlement.md §4 step 5, in fen × basis points (not yet rounded)."""
    total, lower = 0, 0
    for upper, ratio in bands:
        hi = u if upper is None else min(u, upper)
        total += ratio * max(0, hi - max(lower, deductible))
        if upper is None:
            break
        lower = upper
    return total


def critical_illness(c, p, s, w, trace=None):
    """Step 5: critical-illness insurance on the year's cumulative compliant amount."""
    ci = p["critical_illness"]
    w["compliant"] = w["in_scope_share"] + (c["class_b_self_pay"] if ci["compliant_includes_class_b"] else 0)
    w["critical_illness"] = w["ci_base_added"] = 0
    if c["scheme"] not in ci["schemes"] or c["visit_type"] not in ci["visit_types"]:
        note(trace, "critical illness", "not covered for this scheme or visit type", 0,
             "critical_illness.visit_types", ci["visit_types"], output="critical_illness")  # fmt: skip
        return
    poor = c["assistance"] in ci["poor"]
    ded = rnd(ci["deductible"] * ci["poor_deductible_factor"], BP) if poor else ci["deductible"]
    bonus = ci["poor_ratio_bonus"] if poor else 0
    bands = [(b.get("upper"), min(b["ratio"] + bonus, BP)) for b in ci["bands"]]
    u0 = s["ci_base"]
    u1 = u0 + w["compliant"]
    raw = rnd(banded(u1, ded, bands), BP) - rnd(banded(u0, ded, bands), BP)
    capped = not (poor and ci["poor_uncapped"]) and ci["cap"] != "none"
    before = s["ci_paid"]
    w["critical_illness"] = min(raw, max(0, ci["cap"] - before)) if capped else raw
    s["ci_base"], s["ci_paid"] = u1, before + w["critical_illness"]
    w["ci_base_added"] = w["compliant"]
    note(trace, "critical illness", f"compliant amount {w['compliant']} fen added to the year's base", w["compliant"],
         "critical_illness.deductible", ded, "ci_base", u0, u1)  # fmt: skip
    note(trace, "critical illness", "banded ratios on the cumulative base" + (" (poor: bonus, lower deductible)"
         if poor else "") + (", within the cap" if capped else ", uncapped"), w["critical_illness"],
         "critical_illness.bands", ci["bands"], "ci_paid", before, s["ci_paid"], output="critical_illness")  # fmt: skip


def assistance(c, p, s, w, trace=None):
    """Step 6: medical assistance for its classes, on the cumulative base left after CI."""
    ma = p["medical_assistance"]
    w["medical_assistance"] = w["ma_base_added"] = 0
    asst = c["assistance"]
    if asst == "none" or c["visit_type"] not in ma["visit_types"]:
        note(trace, "assistance", "no medical assistance for this person or visit type", 0,
             "medical_assistance.visit_types", ma["visit_types"], output="medical_assistance")  # fmt: skip
        return
    cls = ma[asst]
    y = w["compliant"] - w["critical_illness"]
    u0, u1 = s["ma_base"], s["ma_base"] + y

    def h(u):
        return cls["ratio"] * max(0, u - cls["deductible"])

    raw = rnd(h(u1), BP) - rnd(h(u0), BP)
    before = s["ma_paid"]
    w["medical_assistance"] = raw if cls["cap"] == "none" else min(raw, max(0, cls["cap"] - before))
    s["ma_base"], s["ma_paid"] = u1, before + w["medical_assistance"]
    w["ma_base_added"] = y
    note(trace, "assistance", f"{asst}: {cls['ratio']} bp above the annual deductible of the base", y,
         f"medical_assistance.{asst}", cls, "ma_base", u0, u1)  # fmt: skip
    note(trace, "assistance", "medical assistance" + ("" if cls["cap"] == "none" else ", within the cap"),
         w["medical_assistance"], f"medical_assistance.{asst}", cls, "ma_paid", before, s["ma_paid"],
         output="medical_assistance")  # fmt: skip


def historical_account(c, p, s, w, trace=None):
    """Step 7: the historical account pays what is left (not the self-paid part, unless allowed)."""
    acc = p["account"]
    w["left"] = c["total_cost"] - w["account_current"] - w["fund"] - w["critical_illness"] - w["medical_assistance"]
    w["account_hist"] = 0
    if c["scheme"] in acc["schemes"] and acc["hist_pays"]:
        payable = w["left"] - (0 if acc["hist_covers_self_pay"] else c["self_pay"])
        before = s["hist_balance"]
        w["account_hist"] = max(0, min(payable, before))
        s["hist_balance"] -= w["account_hist"]
        note(trace, "historical account", "historical account pays what is left, up to its balance",
             w["account_hist"], "account.hist_covers_self_pay", acc["hist_covers_self_pay"], "hist_balance", before,
             s["hist_balance"], output="account_hist")  # fmt: skip
    else:
        note(trace, "historical account", "the historical account does not pay this scheme", 0,
             "account.hist_pays", acc["hist_pays"], output="account_hist")  # fmt: skip


def cash(c, p, s, w, trace=None):
    """What no one else paid is the person's cash."""
    w["cash"] = w["left"] - w["account_hist"]
    note(trace, "cash", "what is left after every payer", w["cash"], output="cash")


STEPS = (split, lookup, current_account, deductible, fund_and_cap, critical_illness, assistance,
         historical_account, cash)  # fmt: skip


def settle_claim(c: dict, p: dict, s: dict, trace: list | None = None) -> dict:
    """Settle one claim ``c`` under parameters ``p``, updating the person-year state ``s``;
    returns the claim's outputs (``contract.OUTPUT_FIELDS``)."""
    w: dict = {}
    for step in STEPS:
        step(c, p, s, w, trace)
    return w


def reverse_claim(original: dict, visit: str, level: str, s: dict) -> dict:
    """Undo a settled claim (docs/rules/settlement.md §6): negate its outputs, give back what
    it took from the accumulators."""
    s["current_balance"] += original["account_current"]
    if POOL[visit] == "outpatient":
        s["outpatient_deductible_used"] -= original["deductible"]
    elif POOL[visit] == "inpatient":
        s["inpatient_deductible_used"] -= original["deductible"]
        s[ADMISSIONS[level]] -= 1
    s["fund_paid"] -= original["fund"]
    s["ci_base"] -= original["ci_base_added"]
    s["ci_paid"] -= original["critical_illness"]
    s["ma_base"] -= original["ma_base_added"]
    s["ma_paid"] -= original["medical_assistance"]
    s["hist_balance"] += original["account_hist"]
    out = {name: -original[name] for name in original}
    out["ratio_bp"] = original["ratio_bp"]  # a rate, not an amount: kept as it was
    return out
