"""The agent API's HTTP layer: sessions, CSRF, error precedence, unknown paths, customer routes."""

from __future__ import annotations

import httpx

from conformance.simulator.server import ReferenceServer
from tests.simulator_http.helpers import HTTP, basic, login

ME = f"{HTTP.api_prefix}/me"
INTERACTION = f"{HTTP.api_prefix}/me/interactions/unknown-id"


async def test_get_me_sets_cookie_and_csrf_headers(server: ReferenceServer) -> None:
    async with httpx.AsyncClient(base_url=server.url) as client:
        response = await client.get(ME, headers=basic("alice"))
    assert response.status_code == 200
    assert response.json()["statusCode"] == 0
    assert HTTP.session_cookie in response.cookies
    assert response.headers[HTTP.csrf_header_name_header] == HTTP.csrf_token_header
    assert response.headers[HTTP.csrf_token_header]


async def test_cookie_alone_authenticates_and_token_is_fixed(server: ReferenceServer) -> None:
    agent = await login(server.url)
    again = await agent.client.get(ME)
    assert again.status_code == 200
    assert again.headers[HTTP.csrf_token_header] == agent.csrf
    await agent.client.aclose()


async def test_wrong_basic_is_401_even_with_a_valid_cookie(server: ReferenceServer) -> None:
    agent = await login(server.url)
    for path in (ME, INTERACTION, f"{HTTP.api_prefix}/me/interactions", f"{HTTP.api_prefix}/nowhere"):
        response = await agent.client.get(path, headers=basic("alice", "wrong"))
        assert response.status_code == 401
        assert len(response.content) <= 512 and "bob" not in response.text
    await agent.client.aclose()


async def test_missing_credentials_are_401(server: ReferenceServer) -> None:
    async with httpx.AsyncClient(base_url=server.url) as client:
        for path in (ME, INTERACTION, f"{HTTP.api_prefix}/nowhere"):
            assert (await client.get(path)).status_code == 401
            assert (await client.post(path, content=b"{}")).status_code == 401
        bad_scheme = await client.get(ME, headers={"Authorization": "Basic !!!"})
        assert bad_scheme.status_code == 401


async def test_post_without_or_with_wrong_csrf_is_403_plain(server: ReferenceServer) -> None:
    agent = await login(server.url)
    for headers in ({}, {HTTP.csrf_token_header: "wrong"}):
        response = await agent.client.post(INTERACTION, json={"operationName": "Accept"}, headers=headers)
        assert response.status_code == 403
        assert response.headers["content-type"].startswith("text/plain")
    await agent.client.aclose()


async def test_precedence_404_before_body(server: ReferenceServer) -> None:
    agent = await login(server.url)
    for path in (f"{HTTP.api_prefix}/nowhere", f"{ME}/channels/nosuch", f"{ME}/interactions/x/y"):
        response = await agent.client.post(path, content=b"not json", headers=agent.csrf_headers())
        assert response.status_code == 404, path
        assert response.json()["statusCode"] == 6
    put = await agent.client.put(ME, content=b"{}", headers=agent.csrf_headers())
    assert put.status_code == 404 and put.json()["statusCode"] == 6
    await agent.client.aclose()


async def test_body_not_a_json_object_is_1(server: ReferenceServer) -> None:
    agent = await login(server.url)
    for body in (b"not json", b"[1]", b"\xff\xfe{}", b"NaN", b"[" * 100_000, "{}".encode("utf-16")):
        for path in (ME, INTERACTION):
            response = await agent.client.post(path, content=body, headers=agent.csrf_headers())
            assert response.status_code == 400, (path, body[:10])
            assert response.json()["statusCode"] == 1
    await agent.client.aclose()


async def test_huge_body_never_5xx(server: ReferenceServer) -> None:
    agent = await login(server.url)
    body = b'{"operationName": "SendMessage", "text": "' + b"x" * (2 * 1024 * 1024) + b'"}'
    response = await agent.client.post(INTERACTION, content=body, headers=agent.csrf_headers())
    assert response.status_code < 500 and "statusCode" in response.json()
    await agent.client.aclose()


async def test_list_interactions_uses_absolute_uris(server: ReferenceServer) -> None:
    agent = await login(server.url)
    response = await agent.client.get(f"{ME}/interactions")
    assert response.status_code == 200
    assert all(uri.startswith(server.url) for uri in response.json()["uris"])
    await agent.client.aclose()


async def test_customer_routes_need_no_agent_auth(server: ReferenceServer) -> None:
    async with httpx.AsyncClient(base_url=server.url) as client:
        start = await client.post(f"{HTTP.gms_prefix}/customer-support", data={"nickname": "Ann"})
        assert start.status_code == 200 and start.json()["statusCode"] == 0
        unknown = await client.post(
            f"{HTTP.gms_prefix}/customer-support/nochat/send",
            data={"userId": "u", "secureKey": "k", "message": "m"},
        )
        assert unknown.status_code == 404 and unknown.json()["statusCode"] == 6
        get = await client.get(f"{HTTP.gms_prefix}/customer-support")
        assert get.status_code == 404 and get.json()["statusCode"] == 6
        binary = await client.post(f"{HTTP.gms_prefix}/customer-support", content=b"\xff\x00\xfe")
        assert binary.status_code < 500 and "statusCode" in binary.json()


async def test_other_paths_are_404_json(server: ReferenceServer) -> None:
    async with httpx.AsyncClient(base_url=server.url) as client:
        response = await client.get("/favicon.ico")
    assert response.status_code == 404 and response.json()["statusCode"] == 6
