"""Dossiers as tests drive them over HTTP."""

from __future__ import annotations

from tests.support.login import JAN, csrf


async def open_dossier(client, office_id: str, reference: str = "2026/0042", **extra):
    body = {
        "office_id": office_id,
        "reference": reference,
        "description": "Aankoop woning Leuven",
        "clients": [JAN],
        "steps": [{"label": "Titelonderzoek", "done": True}, {"label": "Ondertekening"}],
        **extra,
    }
    return await client.post("/api/v1/dossiers", json=body, headers=csrf(client))


async def post_document(client, dossier_id: str, name: str, data: bytes, tab: str | None = None):
    params = {"name": name} | ({"tab": tab} if tab else {})
    return await client.post(
        f"/api/v1/dossiers/{dossier_id}/documents",
        params=params,
        content=data,
        headers=csrf(client),
    )


async def send_message(client, dossier_id: str, subject: str, body: str, **extra):
    return await client.post(
        f"/api/v1/dossiers/{dossier_id}/messages",
        json={"subject": subject, "body": body, **extra},
        headers=csrf(client),
    )
