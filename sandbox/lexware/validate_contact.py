"""Contact payload validation (legacy IssueList, 406) and normalisation to the stored shape."""

from __future__ import annotations

from .errors import issue
from .masterdata import COUNTRY_CODES

EMAIL_KINDS = ("business", "office", "private", "other")
PHONE_KINDS = ("business", "office", "mobile", "private", "fax", "other")
MULTI_LISTS = (
    [("addresses", k) for k in ("billing", "shipping")]
    + [("emailAddresses", k) for k in EMAIL_KINDS]
    + [("phoneNumbers", k) for k in PHONE_KINDS]
)


def _str(
    value: object, source: str, issues: list, *, required: bool = False, max_len: int | None = None
) -> None:
    if value is None:
        if required:
            issues.append(issue("missing_entity", source))
    elif not isinstance(value, str) or (max_len and len(value) > max_len):
        issues.append(issue("invalid_value", source))
    elif required and not value.strip():
        issues.append(issue("missing_entity", source))


def multi_entry_issues(contact: dict) -> list[dict]:
    """Contacts with more than one entry in a list field cannot be written through the API."""
    out = []
    for group, kind in MULTI_LISTS:
        if len(contact.get(group, {}).get(kind) or []) > 1:
            out.append(issue("invalid_value", f"{group}.{kind}.size"))
    if len(contact.get("company", {}).get("contactPersons") or []) > 1:
        out.append(issue("invalid_value", "company.contactPersons.size"))
    return out


def validate_contact(body: object) -> list[dict]:
    if not isinstance(body, dict):
        return [issue("invalid_value", None)]
    issues: list[dict] = []
    roles = body.get("roles")
    if not isinstance(roles, dict) or not any(isinstance(roles.get(r), dict) for r in ("customer", "vendor")):
        issues.append(issue("missing_entity", "roles.customer or roles.vendor"))
    company, person = body.get("company"), body.get("person")
    if company is None and person is None:
        issues.append(issue("missing_entity", "company or person"))
    elif company is not None and person is not None:
        issues.append(issue("invalid_value", "company and person"))
    if company is not None:
        if not isinstance(company, dict):
            issues.append(issue("invalid_value", "company"))
        else:
            _str(company.get("name"), "company.name", issues, required=True)
            _str(company.get("taxNumber"), "company.taxNumber", issues)
            _str(company.get("vatRegistrationId"), "company.vatRegistrationId", issues)
            if "allowTaxFreeInvoices" in company and not isinstance(company["allowTaxFreeInvoices"], bool):
                issues.append(issue("invalid_value", "company.allowTaxFreeInvoices"))
            persons = company.get("contactPersons") or []
            if not isinstance(persons, list):
                issues.append(issue("invalid_value", "company.contactPersons"))
                persons = []
            for i, p in enumerate(persons):
                src = f"company.contactPersons[{i}]"
                if not isinstance(p, dict):
                    issues.append(issue("invalid_value", src))
                    continue
                _str(p.get("lastName"), f"{src}.lastName", issues, required=True)
                _str(p.get("salutation"), f"{src}.salutation", issues, max_len=25)
    if person is not None:
        if not isinstance(person, dict):
            issues.append(issue("invalid_value", "person"))
        else:
            _str(person.get("lastName"), "person.lastName", issues, required=True)
            _str(person.get("firstName"), "person.firstName", issues)
            _str(person.get("salutation"), "person.salutation", issues, max_len=25)
    _lists(body, "addresses", ("billing", "shipping"), issues, address=True)
    _lists(body, "emailAddresses", EMAIL_KINDS, issues)
    _lists(body, "phoneNumbers", PHONE_KINDS, issues)
    _str(body.get("note"), "note", issues, max_len=1000)
    xr = body.get("xRechnung")
    if xr is not None and (
        not isinstance(xr, dict) or (xr.get("buyerReference") and not xr.get("vendorNumberAtCustomer"))
    ):
        issues.append(issue("missing_entity", "xRechnung.vendorNumberAtCustomer"))
    if not issues:
        issues.extend(multi_entry_issues(body))
    return issues


def _lists(body: dict, group: str, kinds: tuple, issues: list, *, address: bool = False) -> None:
    value = body.get(group)
    if value is None:
        return
    if not isinstance(value, dict) or any(
        k not in kinds or not isinstance(v, list) for k, v in value.items()
    ):
        issues.append(issue("invalid_value", group))
        return
    for kind, entries in value.items():
        for i, entry in enumerate(entries):
            src = f"{group}.{kind}[{i}]"
            if not address:
                _str(entry, src, issues, required=True)
            elif not isinstance(entry, dict):
                issues.append(issue("invalid_value", src))
            elif entry.get("countryCode") not in COUNTRY_CODES:
                issues.append(issue("countrycode_is_not_valid", f"{src}.countryCode"))


def normalise_contact(body: dict, existing: dict | None, numbers: dict[str, int]) -> dict:
    """Stored shape for a create (existing None) or a full-replace update; read-only fields are ignored."""
    out: dict = {}
    roles = {}
    for role in ("customer", "vendor"):
        if isinstance(body["roles"].get(role), dict):
            old = (existing or {}).get("roles", {}).get(role)
            roles[role] = {"number": old["number"] if old else numbers[role]}
    out["roles"] = roles
    for key in ("company", "person", "addresses", "xRechnung", "emailAddresses", "phoneNumbers", "note"):
        if body.get(key) is not None:
            out[key] = body[key]
    out["archived"] = (existing or {}).get("archived", False)
    return out
