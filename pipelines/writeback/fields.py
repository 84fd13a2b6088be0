"""The field map: which CDM fields analysts may correct, per entity, and where they live in Lexware JSON.

One table per entity, read top to bottom:

contact (``cdm.contacts`` -> ``/v1/contacts/{id}``, PUT = full replace, stale version -> 406/409)
  ``name``                  company.name                    company contacts only
  ``salutation``            person.salutation               person contacts only
  ``first_name``            person.firstName                person contacts only
  ``last_name``             person.lastName                 person contacts only
  ``vat_id``                company.vatRegistrationId       company contacts only
  ``tax_number``            company.taxNumber               company contacts only
  ``email``                 emailAddresses.{business,office,private,other}[0]
                            (else company.contactPersons[0].emailAddress, where cdm.contacts found it)
  ``phone``                 phoneNumbers.{business,office,mobile,private,fax,other}[0]
                            (else company.contactPersons[0].phoneNumber)
  ``note``                  note
  ``billing_supplement`` / ``billing_street`` / ``billing_postal_code`` / ``billing_city`` /
  ``billing_country_code``  addresses.billing[0].supplement / .street / .zip / .city / .countryCode
  ``shipping_...``          the same five under addresses.shipping[0]

bill / voucher (``cdm.bills``, and ``cdm.invoices`` / ``cdm.credit_notes`` rows whose
``raw_table = 'raw_lexware.vouchers'`` -> ``/v1/vouchers/{id}``, stale version -> 409)
  ``document_number``       voucherNumber
  ``issue_date``            voucherDate                     written as yyyy-MM-dd
  ``due_date``              dueDate                         written as yyyy-MM-dd
  ``service_date``          shippingDate                    sales vouchers only; yyyy-MM-dd
  ``memo``                  remark
  ``posting_category_id``   voucherItems[*].categoryId      all positions (they must agree); the CDM id
                                                            (lexware:<tenant>:<uuid>) or the bare uuid

Everything else is refused with a reason: read-only fields (numbers, totals, status ...) and whole
entities Lexware cannot update (invoices and credit notes are create-only in the public API).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class FieldSpec:
    """One correctable field: CDM name, Lexware JSON path, value kind and limits."""

    name: str
    path: str
    kind: str  # text | email | vat_id | date | uuid | country_code
    max_length: int | None = None
    nullable: bool = True  # may the correction clear it (new_value NULL)?
    requires: str | None = None  # top-level key the record must have (company / person)
    fallback: str | None = None  # where the CDM reads the value when `path` is empty


@dataclass(frozen=True)
class EntitySpec:
    """A correctable entity: the Lexware resource it lives in and its writable fields."""

    name: str
    resource: str  # path segment under /v1
    fields: dict[str, FieldSpec]
    read_only: dict[str, str]  # CDM field -> why it cannot be written


def _fields(*specs: FieldSpec) -> dict[str, FieldSpec]:
    return {s.name: s for s in specs}


def _address(kind: str) -> tuple[FieldSpec, ...]:
    base = f"addresses.{kind}[0]"
    return (
        FieldSpec(f"{kind}_supplement", f"{base}.supplement", "text", 255),
        FieldSpec(f"{kind}_street", f"{base}.street", "text", 255),
        FieldSpec(f"{kind}_postal_code", f"{base}.zip", "text", 20),
        FieldSpec(f"{kind}_city", f"{base}.city", "text", 255),
        FieldSpec(f"{kind}_country_code", f"{base}.countryCode", "country_code", nullable=False),
    )


_IDENTITY = "the record's identity"
_LOAD = "bookkeeping of the Kontor load, not source data"

CONTACT = EntitySpec(
    name="contact",
    resource="contacts",
    fields=_fields(
        FieldSpec("name", "company.name", "text", 255, nullable=False, requires="company"),
        FieldSpec("salutation", "person.salutation", "text", 25, requires="person"),
        FieldSpec("first_name", "person.firstName", "text", 255, requires="person"),
        FieldSpec("last_name", "person.lastName", "text", 255, nullable=False, requires="person"),
        FieldSpec("vat_id", "company.vatRegistrationId", "vat_id", requires="company"),
        FieldSpec("tax_number", "company.taxNumber", "text", 30, requires="company"),
        FieldSpec(
            "email",
            "emailAddresses.{business,office,private,other}[0]",
            "email",
            254,
            fallback="company.contactPersons[0].emailAddress",
        ),
        FieldSpec(
            "phone",
            "phoneNumbers.{business,office,mobile,private,fax,other}[0]",
            "text",
            30,
            fallback="company.contactPersons[0].phoneNumber",
        ),
        FieldSpec("note", "note", "text", 1000),
        *_address("billing"),
        *_address("shipping"),
    ),
    read_only={
        **dict.fromkeys(("id", "remote_id", "tenant_id", "source_system"), _IDENTITY),
        **dict.fromkeys(
            (
                "remote_version",
                "loaded_at",
                "raw_table",
                "is_deleted",
                "remote_created_at",
                "remote_updated_at",
            ),
            _LOAD,
        ),
        "customer_number": "customer numbers are assigned by Lexware Office and immutable",
        "supplier_number": "vendor numbers are assigned by Lexware Office and immutable",
        "is_customer": "roles are not corrected through write-back",
        "is_supplier": "roles are not corrected through write-back",
        "contact_type": "a contact cannot switch between company and person",
        "status": "Lexware Office ignores 'archived' on updates",
        "is_archived": "Lexware Office ignores 'archived' on updates",
        "email_addresses": "correct the single 'email' field (contacts with several are read-only)",
        "phone_numbers": "correct the single 'phone' field (contacts with several are read-only)",
        "contact_person_name": "contact persons are not corrected through write-back",
        "allows_tax_free_invoices": "not corrected through write-back",
    },
)

VOUCHER = EntitySpec(
    name="voucher",
    resource="vouchers",
    fields=_fields(
        FieldSpec("document_number", "voucherNumber", "text", 255, nullable=False),
        FieldSpec("issue_date", "voucherDate", "date", nullable=False),
        FieldSpec("due_date", "dueDate", "date"),
        FieldSpec("service_date", "shippingDate", "date"),
        FieldSpec("memo", "remark", "text", 1000),
        FieldSpec("posting_category_id", "voucherItems[*].categoryId", "uuid", nullable=False),
    ),
    read_only={
        **dict.fromkeys(("id", "remote_id", "tenant_id", "source_system"), _IDENTITY),
        **dict.fromkeys(
            (
                "remote_version",
                "loaded_at",
                "raw_table",
                "is_deleted",
                "remote_created_at",
                "remote_updated_at",
            ),
            _LOAD,
        ),
        "status": "a voucher's status changes through bookkeeping, not through write-back",
        "source_status": "a voucher's status changes through bookkeeping, not through write-back",
        "paid_on": "payments are read-only in the Lexware Office public API",
        **dict.fromkeys(
            ("net_amount", "tax_amount", "gross_amount", "paid_amount", "open_amount"),
            "amounts are derived from the voucher items and payments",
        ),
        "currency_code": "Lexware Office only knows EUR",
        "document_kind": "a voucher's type cannot change after creation",
        "tax_type": "changing the tax type would change every amount; not corrected through write-back",
        "contact_id": "re-assigning a voucher's contact is not supported by write-back",
        "contact_remote_id": "re-assigning a voucher's contact is not supported by write-back",
        "contact_name": "re-assigning a voucher's contact is not supported by write-back",
        "uses_collective_contact": "re-assigning a voucher's contact is not supported by write-back",
    },
)

ENTITIES: dict[str, EntitySpec] = {"contact": CONTACT, "voucher": VOUCHER, "bill": VOUCHER}

_BOOKKEEPING_HINT = (
    "; if the row's raw_table is 'raw_lexware.vouchers' it is a bookkeeping voucher: "
    "record the correction with entity 'voucher'"
)
NOT_WRITABLE_ENTITIES: dict[str, str] = {
    "invoice": "Lexware Office invoices are create-only (no PUT in the public API)" + _BOOKKEEPING_HINT,
    "credit_note": "Lexware Office credit notes are create-only (no PUT in the API)" + _BOOKKEEPING_HINT,
    "payment": "payments are read-only in the Lexware Office public API",
    "posting_category": "posting categories are read-only in the Lexware Office public API",
}

SYSTEMS = ("lexware",)


def locate(spec: FieldSpec, doc: dict[str, Any]) -> str:
    """The path the field currently lives at: `spec.path`, or its fallback where only that holds a value."""
    from pipelines.writeback.paths import get_path

    if spec.fallback and get_path(doc, spec.path) is None and get_path(doc, spec.fallback) is not None:
        return spec.fallback
    return spec.path


def canonical_entity(entity: str) -> str:
    """'Contacts' -> 'contact', 'credit-notes' -> 'credit_note' (names are compared this way)."""
    name = entity.strip().lower().replace("-", "_")
    known = set(ENTITIES) | set(NOT_WRITABLE_ENTITIES)
    if name not in known and name.endswith("s") and name[:-1] in known:
        name = name[:-1]
    return name
