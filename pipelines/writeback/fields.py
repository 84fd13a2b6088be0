"""The field map: which CDM fields analysts may correct, per entity, and where they live in Lexware JSON.

One table per entity, read top to bottom:

contact (``cdm.contacts`` -> ``/v1/contacts/{id}``, PUT = full replace, stale version -> 406/409)
  ``name``                 company.name                     company contacts only
  ``first_name``           person.firstName                 person contacts only
  ``last_name``            person.lastName                  person contacts only
  ``vat_id``               company.vatRegistrationId        company contacts only
  ``tax_number``           company.taxNumber                company contacts only
  ``email``                emailAddresses.{business,office,private,other}[0]
  ``phone``                phoneNumbers.{business,office,mobile,private,fax,other}[0]
  ``note``                 note
  ``billing_street`` / ``billing_zip`` / ``billing_city`` / ``billing_country_code``
                           addresses.billing[0].street / .zip / .city / .countryCode

bill / voucher (``cdm.bills`` and bookkeeping vouchers -> ``/v1/vouchers/{id}``, stale version -> 409)
  ``number``               voucherNumber
  ``issue_date``           voucherDate                      written as yyyy-MM-dd
  ``due_date``             dueDate                          written as yyyy-MM-dd
  ``memo``                 remark
  ``category_id``          voucherItems[*].categoryId       re-categorise all items (they must agree)

Everything else is refused with a reason: read-only fields (numbers, totals, status ...) and whole
entities Lexware cannot update (invoices and credit notes are create-only in the public API).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldSpec:
    """One correctable field: CDM name, Lexware JSON path, value kind and limits."""

    name: str
    path: str
    kind: str  # text | email | vat_id | date | uuid | country_code
    max_length: int | None = None
    nullable: bool = True  # may the correction clear it (new_value NULL)?
    requires: str | None = None  # top-level key the record must have (company / person)


@dataclass(frozen=True)
class EntitySpec:
    """A correctable entity: the Lexware resource it lives in and its writable fields."""

    name: str
    resource: str  # path segment under /v1
    fields: dict[str, FieldSpec]
    read_only: dict[str, str]  # CDM field -> why it cannot be written


def _fields(*specs: FieldSpec) -> dict[str, FieldSpec]:
    return {s.name: s for s in specs}


CONTACT = EntitySpec(
    name="contact",
    resource="contacts",
    fields=_fields(
        FieldSpec("name", "company.name", "text", 255, nullable=False, requires="company"),
        FieldSpec("first_name", "person.firstName", "text", 255, requires="person"),
        FieldSpec("last_name", "person.lastName", "text", 255, nullable=False, requires="person"),
        FieldSpec("vat_id", "company.vatRegistrationId", "vat_id", requires="company"),
        FieldSpec("tax_number", "company.taxNumber", "text", 30, requires="company"),
        FieldSpec("email", "emailAddresses.{business,office,private,other}[0]", "email", 254),
        FieldSpec("phone", "phoneNumbers.{business,office,mobile,private,fax,other}[0]", "text", 30),
        FieldSpec("note", "note", "text", 1000),
        FieldSpec("billing_street", "addresses.billing[0].street", "text", 255),
        FieldSpec("billing_zip", "addresses.billing[0].zip", "text", 20),
        FieldSpec("billing_city", "addresses.billing[0].city", "text", 255),
        FieldSpec("billing_country_code", "addresses.billing[0].countryCode", "country_code", nullable=False),
    ),
    read_only={
        "id": "the record's identity",
        "remote_id": "the record's identity",
        "tenant_id": "the record's identity",
        "customer_number": "customer numbers are assigned by Lexware Office and immutable",
        "supplier_number": "vendor numbers are assigned by Lexware Office and immutable",
        "vendor_number": "vendor numbers are assigned by Lexware Office and immutable",
        "is_customer": "roles are not corrected through write-back",
        "is_supplier": "roles are not corrected through write-back",
        "is_archived": "Lexware Office ignores 'archived' on updates",
        "archived": "Lexware Office ignores 'archived' on updates",
        "version": "managed by Lexware Office (optimistic locking)",
    },
)

VOUCHER = EntitySpec(
    name="voucher",
    resource="vouchers",
    fields=_fields(
        FieldSpec("number", "voucherNumber", "text", 255, nullable=False),
        FieldSpec("issue_date", "voucherDate", "date", nullable=False),
        FieldSpec("due_date", "dueDate", "date"),
        FieldSpec("memo", "remark", "text", 1000),
        FieldSpec("category_id", "voucherItems[*].categoryId", "uuid", nullable=False),
    ),
    read_only={
        "id": "the record's identity",
        "remote_id": "the record's identity",
        "tenant_id": "the record's identity",
        "status": "a voucher's status changes through bookkeeping, not through write-back",
        "total_gross": "totals are derived from the voucher items",
        "total_net": "totals are derived from the voucher items",
        "total_tax": "totals are derived from the voucher items",
        "currency": "Lexware Office only knows EUR",
        "type": "a voucher's type cannot change after creation",
        "contact_id": "re-assigning a voucher's contact is not supported by write-back",
        "version": "managed by Lexware Office (optimistic locking)",
    },
)

ENTITIES: dict[str, EntitySpec] = {"contact": CONTACT, "voucher": VOUCHER, "bill": VOUCHER}

NOT_WRITABLE_ENTITIES: dict[str, str] = {
    "invoice": "Lexware Office invoices are create-only (the public API has no PUT for them)",
    "credit_note": "Lexware Office credit notes are create-only (the public API has no PUT for them)",
    "payment": "payments are read-only in the Lexware Office public API",
    "posting_category": "posting categories are read-only in the Lexware Office public API",
}

SYSTEMS = ("lexware",)


def canonical_entity(entity: str) -> str:
    """'Contacts' -> 'contact', 'credit-notes' -> 'credit_note' (names are compared this way)."""
    name = entity.strip().lower().replace("-", "_")
    known = set(ENTITIES) | set(NOT_WRITABLE_ENTITIES)
    if name not in known and name.endswith("s") and name[:-1] in known:
        name = name[:-1]
    return name
