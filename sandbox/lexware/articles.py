"""Seeded articles (/v1/articles, reference §4.11) and the invoice line items that reference them."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal

from sandbox import names as N

from .util import fmt_dt, money, num, rng_uuid, whole

LINK_SHARE = 0.7  # share of the invoice lines named like an article that reference it (the rest: custom)


def _gtin13(rng: random.Random) -> str:
    """A valid EAN-13 (German prefix 400-440, check digit computed)."""
    digits = [4, 0, rng.randint(0, 4)] + [rng.randint(0, 9) for _ in range(9)]
    check = (10 - sum(d * (3 if i % 2 else 1) for i, d in enumerate(digits)) % 10) % 10
    return "".join(map(str, digits)) + str(check)


def seed_articles(seed: int, tenant: str, org_id: str, anchor: datetime) -> list[dict]:
    """One article per catalogue entry (services and goods), with its own random stream so the rest of the
    books stay as they were. Articles render explicit nulls for unset optional fields, as observed live."""
    rng = random.Random(f"lexware-sandbox:{seed}:{tenant}:articles")
    articles = []
    catalogue = [("SERVICE", entry) for entry in N.SERVICES] + [("PRODUCT", entry) for entry in N.GOODS]
    for i, (kind, (title, unit, rate)) in enumerate(catalogue):
        leading = money(Decimal(rng.randint(250, 45000)) / 100)
        gross_leading = rng.random() < 0.25  # the other price is computed from the leading one
        net = money(leading * 100 / (100 + rate)) if gross_leading else leading
        gross = leading if gross_leading else money(leading * (100 + rate) / 100)
        created = anchor - timedelta(days=rng.randint(400, 1100), minutes=rng.randint(0, 600))
        updated = created + timedelta(days=rng.randint(0, 300)) if rng.random() < 0.4 else created
        articles.append(
            {
                "id": rng_uuid(rng),
                "organizationId": org_id,
                "createdDate": fmt_dt(created),
                "updatedDate": fmt_dt(updated),
                "archived": i == len(catalogue) - 1,  # one discontinued article
                "title": title,
                "description": f"{title} – {unit}" if rng.random() < 0.5 else None,
                "type": kind,
                "articleNumber": f"{'DL' if kind == 'SERVICE' else 'A'}-{1000 + i}" if i % 7 else None,
                "gtin": _gtin13(rng) if kind == "PRODUCT" and rng.random() < 0.5 else None,
                "note": "Preis gilt ab 01.01." if rng.random() < 0.2 else None,
                "unitName": unit,
                "price": {
                    "netPrice": num(net),
                    "grossPrice": num(gross),
                    "leadingPrice": "GROSS" if gross_leading else "NET",
                    "taxRate": whole(Decimal(rate)),
                },
                "version": 0 if updated == created else rng.randint(1, 4),
            }
        )
    return articles


def link_articles(seed: int, tenant: str, invoices: list[dict], articles: list[dict]) -> None:
    """Let most invoice lines named like an article reference it: `id` = the article, `type` `service`
    (SERVICE) or `material` (PRODUCT), as a line picked from the article catalogue in the app would."""
    rng = random.Random(f"lexware-sandbox:{seed}:{tenant}:article-lines")
    by_title = {a["title"]: a for a in articles}
    for invoice in invoices:
        for n, item in enumerate(invoice["lineItems"]):
            article = by_title.get(item["name"])
            if article is None or item["type"] != "custom" or rng.random() >= LINK_SHARE:
                continue
            kind = "service" if article["type"] == "SERVICE" else "material"
            rest = {k: v for k, v in item.items() if k != "type"}
            invoice["lineItems"][n] = {"id": article["id"], "type": kind, **rest}
