"""Company accounts over real HTTP: the main account holder adds staff by NRN, who then see
the company's dossiers; staff cannot manage the accounts; the main one cannot be removed."""

from __future__ import annotations

from tests.support.dossiers import open_dossier
from tests.support.login import JAN, MARIE, csrf
from tests.support.offices import member

COMPANY = {"enterprise_number": "0203201340", "name": "Peeters BV", "main_nrn": JAN}


async def test_the_main_account_adds_staff_who_see_the_dossiers(server, jan, notary, office_id):
    dossier = (await open_dossier(notary, office_id, clients=[], company=COMPANY)).json()
    company = (await jan.get("/api/v1/companies")).json()[0]
    assert (company["name"], company["role"]) == ("Peeters BV", "main")

    async with member(server, MARIE) as marie:
        assert (await marie.get("/api/v1/dossiers")).json() == []
        added = await jan.post(
            f"/api/v1/companies/{company['id']}/members", json={"nrn": MARIE}, headers=csrf(jan)
        )
        assert added.status_code == 201, added.text
        staff = [m for m in added.json()["members"] if m["role"] == "staff"]
        assert [m["name"] for m in staff] == ["Marie Dubois"]

        seen = (await marie.get("/api/v1/dossiers")).json()
        assert [d["id"] for d in seen] == [dossier["id"]]
        assert (await marie.get(f"/api/v1/dossiers/{dossier['id']}")).status_code == 200
        mine = (await marie.get("/api/v1/companies")).json()
        assert [(c["role"], c["members"]) for c in mine] == [("staff", [])]
        # Staff do not manage the accounts.
        refused = await marie.post(
            f"/api/v1/companies/{company['id']}/members", json={"nrn": JAN}, headers=csrf(marie)
        )
        assert refused.status_code == 404
        page = await marie.get(f"/companies/{company['id']}")
        assert page.status_code == 404

        again = await jan.post(
            f"/api/v1/companies/{company['id']}/members", json={"nrn": MARIE}, headers=csrf(jan)
        )
        assert (again.status_code, again.json()["type"]) == (409, "company-member-exists")
        removed = await jan.delete(
            f"/api/v1/companies/{company['id']}/members/{staff[0]['id']}", headers=csrf(jan)
        )
        assert removed.status_code == 204
        assert (await marie.get(f"/api/v1/dossiers/{dossier['id']}")).status_code == 404


async def test_the_main_account_stays_and_bad_numbers_are_refused(server, jan, notary, office_id):
    await open_dossier(notary, office_id, clients=[], company=COMPANY)
    company = (await jan.get("/api/v1/companies")).json()[0]
    main = company["members"][0]

    kept = await jan.delete(
        f"/api/v1/companies/{company['id']}/members/{main['id']}", headers=csrf(jan)
    )
    invalid = await jan.post(
        f"/api/v1/companies/{company['id']}/members", json={"nrn": "123"}, headers=csrf(jan)
    )

    assert (kept.status_code, kept.json()["type"]) == (409, "company-main-account")
    assert (invalid.status_code, invalid.json()["type"]) == (422, "nrn-invalid")
    page = await jan.get(f"/companies/{company['id']}")
    assert page.status_code == 200 and "Peeters BV" in page.text
