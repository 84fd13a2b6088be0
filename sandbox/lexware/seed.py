"""Deterministic seeded books for one tenant: profile and contacts here, documents in seed_docs."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sandbox import names as N

from .articles import link_articles, seed_articles
from .seed_docs import seed_credit_notes, seed_invoices, seed_vouchers
from .util import fmt_dt, rng_uuid

SIZES = {
    "small": {"contacts": 60, "invoices": 200, "vouchers": 100, "credit_notes": 20},
    "medium": {"contacts": 2000, "invoices": 10000, "vouchers": 5000, "credit_notes": 500},
    "large": {"contacts": 8000, "invoices": 40000, "vouchers": 20000, "credit_notes": 2000},
}


@dataclass
class Counts:
    contacts: int
    invoices: int
    vouchers: int
    credit_notes: int


def seed_tenant(seed: int, tenant: str, counts: Counts, anchor: datetime) -> dict:
    """Generate a tenant's complete books; same (seed, tenant, counts, anchor) -> same data, byte for byte."""
    rng = random.Random(f"lexware-sandbox:{seed}:{tenant}")
    org_id = rng_uuid(rng)
    profile = _profile(rng, org_id, anchor)
    contacts = [_contact(rng, i, org_id, counts.contacts) for i in range(counts.contacts)]
    invoices, payments = seed_invoices(rng, org_id, contacts, counts.invoices, anchor)
    articles = seed_articles(seed, tenant, org_id, anchor)
    link_articles(seed, tenant, invoices, articles)
    credit_notes = seed_credit_notes(rng, org_id, invoices, payments, counts.credit_notes, anchor)
    vouchers = seed_vouchers(rng, org_id, contacts, counts.vouchers, anchor, payments)
    return {
        "organizationId": org_id,
        "profile": profile,
        "contacts": contacts,
        "articles": articles,
        "invoices": invoices,
        "credit_notes": credit_notes,
        "vouchers": vouchers,
        "payments": payments,
    }


def _profile(rng: random.Random, org_id: str, anchor: datetime) -> dict:
    first, last = rng.choice(N.FIRST), rng.choice(N.LAST)
    company = f"{rng.choice(N.COMPANY_WORDS)} {rng.choice(N.COMPANY_TRADES)} GmbH"
    return {
        "organizationId": org_id,
        "companyName": company,
        "created": {
            "userId": rng_uuid(rng),
            "userName": f"Herr {first} {last}",
            "userEmail": f"{_ascii(first)}@{_ascii(company.split()[0])}.example",
            "date": fmt_dt(anchor - timedelta(days=3 * 365 + 30, hours=rng.randint(0, 9))),
        },
        "connectionId": rng_uuid(rng),
        "taxType": "net",
        "distanceSalesPrinciple": "ORIGIN",
        "businessFeatures": ["INVOICING", "INVOICING_PRO", "BOOKKEEPING"],
        "smallBusiness": False,
    }


def _ascii(text: str) -> str:
    table = str.maketrans(
        {
            "ä": "ae",
            "ö": "oe",
            "ü": "ue",
            "ß": "ss",
            "Ä": "ae",
            "Ö": "oe",
            "Ü": "ue",
            "ı": "i",
            "ë": "e",
            " ": "-",
            "&": "und",
            ".": "",
            "(": "",
            ")": "",
        }
    )
    return text.lower().translate(table)


def _contact(rng: random.Random, i: int, org_id: str, total: int) -> dict:
    role_pick = rng.random()
    roles: dict = {}
    if role_pick < 0.8 or i == 0:
        roles["customer"] = {"number": 10001 + i}
    if role_pick >= 0.7:
        roles["vendor"] = {"number": 70001 + i}
    is_person = rng.random() < 0.25 or i == 1
    zip_, city, area = rng.choice(N.CITIES)
    country = "DE"
    if rng.random() < 0.06 and not is_person:
        zip_, city, country = rng.choice(N.FOREIGN_CITIES)
        area = "+00"
    record: dict = {
        "id": rng_uuid(rng),
        "organizationId": org_id,
        "version": rng.choice([1, 1, 1, 2, 3, 5]),
        "roles": roles,
    }
    first, last = rng.choice(N.FIRST), rng.choice(N.LAST)
    if is_person:
        record["person"] = {
            "salutation": rng.choice(["Herr", "Frau", ""]) or "Divers",
            "firstName": first,
            "lastName": last,
        }
        domain = "mail.example"
        email_kind = "private"
    else:
        name = f"{rng.choice(N.COMPANY_WORDS)} {rng.choice(N.COMPANY_TRADES)} {rng.choice(N.LEGAL_FORMS)}"
        if i == 2:
            name = (
                "Gesellschaft für angewandte Förderbandtechnik, Qualitätssicherung und "
                "Logistikdienstleistungen "
                "Müller-Lüdenscheidt & Söhne " + name
            )
        company: dict = {"name": name}
        if country == "DE":
            company["taxNumber"] = (
                f"{rng.randint(10, 99)}/{rng.randint(100, 999)}/{rng.randint(10000, 99999)}"
            )
        if rng.random() < 0.7 or country != "DE":
            company["vatRegistrationId"] = f"{country}{rng.randint(100000000, 999999999)}"
        company["allowTaxFreeInvoices"] = country != "DE"
        if rng.random() < 0.7:
            cf, cl = rng.choice(N.FIRST), rng.choice(N.LAST)
            company["contactPersons"] = [
                {
                    "salutation": rng.choice(["Herr", "Frau"]),
                    "firstName": cf,
                    "lastName": cl,
                    "primary": True,
                    "emailAddress": f"{_ascii(cf)}.{_ascii(cl)}@{_ascii(name.split()[0])}.example",
                    "phoneNumber": f"{area} {rng.randint(1000000, 9999999)}",
                }
            ]
        record["company"] = company
        domain = f"{_ascii(name.split()[0])}.example"
        email_kind = "business"
    billing = {
        "street": f"{rng.choice(N.STREETS)} {rng.randint(1, 180)}",
        "zip": zip_,
        "city": city,
        "countryCode": country,
    }
    if rng.random() < 0.15:
        billing = {"supplement": rng.choice(["Hinterhaus", "c/o Buchhaltung", "2. OG"]), **billing}
    addresses: dict = {"billing": [billing]}
    multi = i % 50 == 7  # a few contacts maintained in the web app with several entries (read-only via API)
    if multi or rng.random() < 0.1:
        addresses["shipping"] = [
            {
                "street": f"{rng.choice(N.STREETS)} {rng.randint(1, 99)}",
                "zip": zip_,
                "city": city,
                "countryCode": country,
            }
        ]
    if multi:
        addresses["billing"].append(
            {"street": "Postfach 1234", "zip": zip_, "city": city, "countryCode": country}
        )
    record["addresses"] = addresses
    if rng.random() < 0.85:
        emails = [f"{'buchhaltung' if email_kind == 'business' else _ascii(first)}@{domain}"]
        if multi:
            emails.append(f"info@{domain}")
        record["emailAddresses"] = {email_kind: emails}
    if rng.random() < 0.6:
        record["phoneNumbers"] = {
            rng.choice(["business", "office", "mobile"]): [f"{area} {rng.randint(100000, 999999)}"]
        }
    if rng.random() < 0.2:
        record["note"] = rng.choice(
            [
                "Zahlt per SEPA",
                "Stammkunde seit 2019",
                "Lieferung nur werktags",
                "Ansprechpartner wechselt häufig – bitte immer Buchhaltung in CC",
            ]
        )
    record["archived"] = i >= 3 and rng.random() < 0.04
    return record
