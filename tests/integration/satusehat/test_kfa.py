"""The KFA client against the simulator over real HTTP; the simulator's KFA endpoints."""

from __future__ import annotations

import asyncio

import httpx

from klinikita.integrations.satusehat.client import new_http_client
from klinikita.integrations.satusehat.kfa import KfaClient, KfaPage, kfa_base
from klinikita.integrations.satusehat.outcomes import AuthFailed
from klinikita.integrations.satusehat.tokens import TokenCache
from tests.integration.satusehat.conftest import demo_credentials


def _run(coro):  # noqa: ANN001, ANN202
    return asyncio.run(coro)


def test_search_pages_and_detail(sim):
    async def go():
        async with new_http_client() as http:
            client = KfaClient(demo_credentials(sim), http, TokenCache())
            first = await client.search("bisoprolol 5 mg", size=5)
            second = await client.search("bisoprolol 5 mg", page=2, size=5)
            detail = await client.product("93001019")
            unknown = await client.product("93999999")
            return first, second, detail, unknown

    first, second, detail, unknown = _run(go())
    assert isinstance(first, KfaPage) and isinstance(second, KfaPage)
    assert first.total == second.total > 10
    assert len(first.items) == 5 and {i.kfa_code for i in first.items}.isdisjoint(
        {i.kfa_code for i in second.items}
    )
    assert all("bisoprolol" in i.name.lower() for i in first.items + second.items)
    assert detail.name.startswith("Obat Anti Tuberculosis / Rifampicin 150 mg")
    assert (detail.form_code, detail.form_name) == ("BS023", "Kaplet Salut Selaput")
    assert detail.manufacturer == "KIMIA FARMA"
    assert [i.kfa_code for i in detail.ingredients] == [
        "91000330",
        "91000328",
        "91000329",
        "91000288",
    ]
    assert unknown is None


def test_simulator_refuses_without_a_token(sim):
    base = kfa_base(sim.fhir_url)
    params = {"page": "1", "size": "10", "product_type": "farmasi", "keyword": "paracetamol"}
    no_token = httpx.get(f"{base}/kfa-v2/products/all", params=params)
    assert no_token.status_code == 401
    bad_token = httpx.get(
        f"{base}/kfa-v2/products",
        params={"identifier": "kfa", "code": "93001019"},
        headers={"Authorization": "Bearer salah"},
    )
    assert bad_token.status_code == 401
    assert "paracetamol" not in no_token.text.lower()


def test_wrong_secret_is_an_auth_failure(sim):
    async def go():
        async with new_http_client() as http:
            client = KfaClient(demo_credentials(sim, secret="salah"), http, TokenCache())
            return await client.search("paracetamol")

    assert isinstance(_run(go()), AuthFailed)


def test_size_is_capped_at_1000(sim):
    async def go():
        async with new_http_client() as http:
            client = KfaClient(demo_credentials(sim), http, TokenCache())
            return await client.search("paracetamol", size=1001)

    refused = _run(go())
    assert getattr(refused, "status", None) == 400
