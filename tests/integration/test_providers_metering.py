"""Metering and budgets: one api_usage row per request that reached the provider, and daily
budgets that stop calls before they are exceeded (from Redis, seeded from the database)."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from pydantic import BaseModel

from services.providers.crustdata import CrustdataClient
from services.providers.errors import BudgetExceeded, ProviderAuthError
from services.providers.openai_client import OpenAIClient
from services.providers.phantombuster import PhantomBusterClient
from services.providers.salesql import SalesqlClient
from services.providers.sheets import SheetsClient
from tests.integration.sandbox_fixture import (
    SandboxControl,
    make_context,
    usage_rows,
)

pytestmark = pytest.mark.integration


class Verdict(BaseModel):
    fit: bool
    reason: str


@pytest.fixture()
def env(fast_providers: SandboxControl, db, redis_conn):
    return fast_providers, db, make_context(db)


def test_usage_rows_match_the_calls_made(env) -> None:
    ctl, db, ctx = env
    ctl.configure("salesql", fail_next=["503"], retry_after_s=0)
    salesql = SalesqlClient()
    salesql.enrich_person(ctx, "https://www.linkedin.com/in/ann-lee")  # 503, then ok
    salesql.enrich_person(ctx, "https://www.linkedin.com/in/notfound-z")
    CrustdataClient().enrich_people(ctx, [f"https://www.linkedin.com/in/u-{i}" for i in range(3)])
    OpenAIClient().structured(
        ctx, messages=[{"role": "user", "content": "fit?"}], response_model=Verdict
    )
    SheetsClient().get_values(ctx, "s1", "A1:A3")
    PhantomBusterClient().launch(ctx, "a1", {"search": "python"})

    rows = usage_rows(db)
    for provider in ("salesql", "crustdata", "openai", "sheets", "phantombuster"):
        mine = [r for r in rows if r["provider"] == provider]
        assert len(mine) == ctl.requests(provider), provider
    assert all(
        (r["user_id"], r["project_id"], r["job_id"]) == (ctx.user_id, ctx.project_id, ctx.job_id)
        for r in rows
    )
    assert all(r["latency_ms"] is not None and r["latency_ms"] >= 0 for r in rows)
    salesql_rows = [
        (r["status"], r["http_status"], r["attempt"]) for r in rows if r["provider"] == "salesql"
    ]
    assert salesql_rows == [("unavailable", 503, 1), ("ok", 200, 2), ("not_found", 404, 1)]
    crust = next(r for r in rows if r["provider"] == "crustdata")
    assert float(crust["units"]) == 3 and float(crust["cost_usd"]) == pytest.approx(0.03)
    assert crust["subject"] == "3 profiles"


def test_unit_budget_stops_calls_before_it_is_exceeded(env, monkeypatch, same_utc_day) -> None:
    ctl, db, ctx = env
    monkeypatch.setenv("SALESQL_DAILY_BUDGET", "3")
    client = SalesqlClient()
    for i in range(3):
        client.enrich_person(ctx, f"https://www.linkedin.com/in/b-{i}")
    with pytest.raises(BudgetExceeded) as info:
        client.enrich_person(ctx, "https://www.linkedin.com/in/b-4")
    assert "daily budget of 3 units" in info.value.message
    assert ctl.requests("salesql") == 3
    assert [r["status"] for r in usage_rows(db, "salesql")][-1] == "budget_exceeded"


def test_failed_calls_give_back_their_reservation(env, monkeypatch) -> None:
    ctl, _db, ctx = env
    monkeypatch.setenv("SALESQL_DAILY_BUDGET", "1")
    ctl.configure("salesql", fail_next=["401"])
    client = SalesqlClient()
    with pytest.raises(ProviderAuthError):
        client.enrich_person(ctx, "https://www.linkedin.com/in/c-1")
    assert client.enrich_person(ctx, "https://www.linkedin.com/in/c-2") is not None


def test_dollar_budget_stops_openai_before_sending(env, monkeypatch) -> None:
    ctl, _db, ctx = env
    monkeypatch.setenv("OPENAI_DAILY_BUDGET", "0.0001")  # below one call's worst case
    with pytest.raises(BudgetExceeded) as info:
        OpenAIClient().structured(
            ctx, messages=[{"role": "user", "content": "x"}], response_model=Verdict
        )
    assert "USD" in info.value.message
    assert ctl.requests("openai") == 0


def test_budget_counter_is_seeded_from_todays_usage_rows(
    env, monkeypatch, redis_conn, same_utc_day
) -> None:
    _ctl, db, ctx = env
    db.execute(
        "INSERT INTO api_usage (provider, operation, units, status) "
        "VALUES ('crustdata', 'person_enrich', 9, 'ok')"
    )
    db.execute(  # yesterday's spend does not count
        "INSERT INTO api_usage (provider, operation, units, status, ts) "
        "VALUES ('crustdata', 'person_enrich', 500, 'ok', %s)",
        (dt.datetime.now(dt.UTC) - dt.timedelta(days=1, hours=1),),
    )
    monkeypatch.setenv("CRUSTDATA_DAILY_BUDGET", "10")
    client = CrustdataClient()
    client.enrich_batch(ctx, ["https://www.linkedin.com/in/d-1"])
    with pytest.raises(BudgetExceeded):
        client.enrich_batch(ctx, ["https://www.linkedin.com/in/d-2"])


KEYS = {
    "PHANTOMBUSTER_API_KEY": "pb-SECRETKEY-1111111111",
    "CRUSTDATA_API_KEY": "cd-SECRETKEY-2222222222",
    "SALESQL_API_KEY": "sq-SECRETKEY-3333333333",
    "OPENAI_API_KEY": "sk-SECRETKEY-4444444444",
    "GOOGLE_SHEETS_API_KEY": "AIza-SECRETKEY-55555555",
}


def test_keys_never_appear_in_logs_errors_or_reprs(
    env,
    monkeypatch,
    caplog,
    sandbox_url: str,
) -> None:
    ctl, db, ctx = env
    from services.core.settings import get_settings

    for name, value in KEYS.items():
        monkeypatch.setenv(name, value)
    prefixes = {
        "PHANTOMBUSTER": "/phantombuster/api/v2",
        "CRUSTDATA": "/crustdata",
        "SALESQL": "/salesql/v1",
        "OPENAI": "/openai/v1",
        "SHEETS": "/sheets/v4",
    }
    for name, prefix in prefixes.items():
        monkeypatch.setenv(f"{name}_BASE_URL", sandbox_url + prefix)
    get_settings.cache_clear()
    caplog.set_level(logging.DEBUG)
    for provider in ("phantombuster", "crustdata", "salesql", "openai", "sheets"):
        ctl.configure(provider, fail_next=["401"])  # an error path as well as a success
    clients = [
        PhantomBusterClient(),
        CrustdataClient(),
        SalesqlClient(),
        OpenAIClient(),
        SheetsClient(),
    ]
    texts: list[str] = [repr(c) for c in clients] + [repr(c.config) for c in clients]
    assert all(c.config.api_key in KEYS.values() for c in clients)  # the real keys are in use
    calls = [
        lambda: clients[0].launch(ctx, "a1", {"search": "x"}),
        lambda: clients[1].enrich_batch(ctx, ["https://www.linkedin.com/in/k-1"]),
        lambda: clients[2].enrich_person(ctx, "https://www.linkedin.com/in/k-1"),
        lambda: clients[3].structured(
            ctx, messages=[{"role": "user", "content": "x"}], response_model=Verdict
        ),
        lambda: clients[4].get_values(ctx, "s1", "A1:B2"),
    ]
    for call in calls:
        with pytest.raises(ProviderAuthError) as info:
            call()
        texts += [str(info.value), repr(info.value), info.value.reason]
        call()  # the fault is used up: now a success
    texts.append(caplog.text)
    texts += [str(r["error"]) for r in usage_rows(db)]
    blob = "\n".join(texts)
    assert "provider call ok" in caplog.text  # logging did happen
    for key in KEYS.values():
        assert key not in blob
    get_settings.cache_clear()
