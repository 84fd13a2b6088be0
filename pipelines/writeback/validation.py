"""Strict validation of corrections: every rejected row gets one readable reason and causes no API call."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from pipelines.lexware.helpers import calendar_day
from pipelines.writeback.fields import (
    ENTITIES,
    NOT_WRITABLE_ENTITIES,
    SYSTEMS,
    EntitySpec,
    FieldSpec,
    canonical_entity,
)
from pipelines.writeback.model import Correction

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_COUNTRY = re.compile(r"^[A-Z]{2}(_[A-Z0-9]{2})?$")
_EMAIL = re.compile(
    r"^(?P<local>[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*)"
    r"@(?P<domain>([^\W_]([^\W_]|-){0,61}[^\W_]?\.)+[^\W\d_]{2,63})$"
)
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")

# EU member states (VIES prefixes; Greece is EL), Northern Ireland, United Kingdom, Switzerland (UID).
_VAT_FORMATS = {
    "AT": r"U\d{8}",
    "BE": r"[01]\d{9}",
    "BG": r"\d{9,10}",
    "CY": r"\d{8}[A-Z]",
    "CZ": r"\d{8,10}",
    "DE": r"[1-9]\d{8}",
    "DK": r"\d{8}",
    "EE": r"\d{9}",
    "EL": r"\d{9}",
    "ES": r"[A-Z0-9]\d{7}[A-Z0-9]",
    "FI": r"\d{8}",
    "FR": r"[A-HJ-NP-Z0-9]{2}\d{9}",
    "HR": r"\d{11}",
    "HU": r"\d{8}",
    "IE": r"\d{7}[A-W][A-I]?|\d[A-Z+*]\d{5}[A-W]",
    "IT": r"\d{11}",
    "LT": r"\d{9}|\d{12}",
    "LU": r"\d{8}",
    "LV": r"\d{11}",
    "MT": r"\d{8}",
    "NL": r"\d{9}B\d{2}",
    "PL": r"\d{10}",
    "PT": r"\d{9}",
    "RO": r"[1-9]\d{1,9}",
    "SE": r"\d{10}01",
    "SI": r"\d{8}",
    "SK": r"\d{10}",
    "XI": r"\d{9}|\d{12}|GD\d{3}|HA\d{3}",
    "GB": r"\d{9}|\d{12}|GD\d{3}|HA\d{3}",
    "CH": r"E\d{9}(MWST|TVA|IVA)?",
}


class InvalidValue(ValueError):
    """A value does not fit its field; the message is the reason shown to the analyst."""


@dataclass(frozen=True)
class ValidCorrection:
    """A correction that passed validation, resolved against the field map."""

    correction: Correction
    entity: EntitySpec
    field: FieldSpec
    remote_id: str
    new_value: str | None  # normalised, in the form written to Lexware
    expected_old_value: str | None  # normalised

    @property
    def resource_path(self) -> str:
        return f"/v1/{self.entity.resource}/{self.remote_id}"


def _unqualify(value: str) -> str:
    """'lexware:<tenant>:<uuid>' (a CDM id) -> '<uuid>'; anything else unchanged."""
    parts = value.split(":")
    return parts[-1] if len(parts) == 3 and parts[0] in SYSTEMS else value


def _de_check_digit_ok(digits: str) -> bool:
    """German USt-IdNr check digit (ISO 7064 MOD 11,10)."""
    product = 10
    for ch in digits[:8]:
        total = (int(ch) + product) % 10 or 10
        product = (2 * total) % 11
    check = (11 - product) % 10
    return check == int(digits[8])


def normalize_vat_id(value: str) -> str:
    compact = re.sub(r"[\s.\-]", "", value).upper()
    country, rest = compact[:2], compact[2:]
    pattern = _VAT_FORMATS.get(country)
    if pattern is None:
        raise InvalidValue(f"VAT id {value!r} must start with a country prefix (e.g. DE, AT, FR; Greece: EL)")
    if not re.fullmatch(pattern, rest):
        raise InvalidValue(f"VAT id {value!r} does not match the {country} format")
    if country == "DE" and not _de_check_digit_ok(rest):
        raise InvalidValue(f"VAT id {value!r} has a wrong check digit")
    return compact


def normalize_value(spec: FieldSpec, value: object) -> str | None:
    """Check ``value`` against ``spec`` and return the form to write (``None`` = clear the field)."""
    if value is None or (isinstance(value, str) and value.strip() == ""):
        if not spec.nullable:
            raise InvalidValue(f"{spec.name} cannot be cleared (it is required in Lexware Office)")
        return None
    if isinstance(value, date):  # YAML turns 2025-01-31 into a date
        value = value.isoformat()
    if not isinstance(value, str):
        raise InvalidValue(f"{spec.name} expects text, got {type(value).__name__} {value!r} (quote it)")
    if spec.kind == "text":
        if _CONTROL.search(value):
            raise InvalidValue(f"{spec.name} contains control characters")
        if spec.max_length and len(value) > spec.max_length:
            raise InvalidValue(f"{spec.name} has {len(value)} characters; at most {spec.max_length} allowed")
        return value
    value = value.strip()
    if spec.kind == "email":
        m = _EMAIL.match(value)
        if not m or len(m["local"]) > 64 or len(value) > (spec.max_length or 254):
            raise InvalidValue(f"{value!r} is not a valid e-mail address")
        return value
    if spec.kind == "vat_id":
        return normalize_vat_id(value)
    if spec.kind == "date":
        try:
            if not _DATE.match(value):
                raise ValueError
            parsed = date.fromisoformat(value)
        except ValueError:
            raise InvalidValue(f"{spec.name} {value!r} is not a date in the form YYYY-MM-DD") from None
        if not 1900 <= parsed.year <= 2100:
            raise InvalidValue(f"{spec.name} {value!r} is outside 1900..2100")
        return value
    if spec.kind == "uuid":
        value = _unqualify(value)
        if not _UUID.match(value.lower()):
            raise InvalidValue(f"{spec.name} {value!r} is not a Lexware id (UUID)")
        return value.lower()
    if spec.kind == "country_code":
        if not _COUNTRY.match(value.upper()):
            raise InvalidValue(f"{spec.name} {value!r} is not an ISO 3166 alpha-2 country code")
        return value.upper()
    raise AssertionError(f"unknown field kind {spec.kind}")


def comparable(spec: FieldSpec, value: Any) -> str | None:
    """The form used to compare a Lexware value with an analyst's value (dates: the day; ids: case)."""
    if value is None or value == "":
        return None
    text = str(value)
    if spec.kind == "date":
        return calendar_day(text)
    if spec.kind == "email":
        return text.strip().lower()
    if spec.kind == "vat_id":
        return re.sub(r"[\s.\-]", "", text).upper()
    if spec.kind == "uuid":
        return _unqualify(text.strip()).lower()
    if spec.kind == "country_code":
        return text.strip().lower()
    return text


def parse_record_id(record_id: str, tenant: str) -> str:
    """Remote (Lexware) id from a CDM id ``lexware:<tenant>:<uuid>`` or a bare remote id."""
    rid = record_id.strip()
    if ":" in rid:
        parts = rid.split(":")
        if len(parts) != 3 or parts[0] not in SYSTEMS:
            raise InvalidValue(
                f"record id {record_id!r} is neither a CDM id (lexware:<tenant>:<id>) nor a remote id"
            )
        if parts[1] != tenant:
            raise InvalidValue(f"record id {record_id!r} belongs to tenant {parts[1]!r}, not {tenant!r}")
        rid = parts[2]
    if not _UUID.match(rid.lower()):
        raise InvalidValue(f"record id {record_id!r} is not a Lexware id (UUID)")
    return rid.lower()


def validate(correction: Correction, known_tenants: set[str] | None = None) -> ValidCorrection:
    """Resolve and check one correction; raises ``InvalidValue`` with the reason."""
    c = correction
    for name in ("tenant", "entity", "record_id", "field"):
        value = getattr(c, name)
        if value is None or (isinstance(value, str) and not value.strip()):
            raise InvalidValue(f"{name} is missing")
        if not isinstance(value, str):
            what = "a number" if isinstance(value, int | float) else f"a {type(value).__name__}"
            hint = (
                ": a Lexware id (UUID) or a CDM id lexware:<tenant>:<id>, as text (quote it in YAML)"
                if name == "record_id"
                else ": text"
            )
            raise InvalidValue(f"{name} {value!r} is {what}; expected{hint}")
    if known_tenants is not None and c.tenant not in known_tenants:
        configured = ", ".join(sorted(known_tenants)) or "none"
        raise InvalidValue(f"unknown tenant {c.tenant!r} (configured: {configured})")
    entity_name = canonical_entity(c.entity)
    if entity_name in NOT_WRITABLE_ENTITIES:
        raise InvalidValue(f"entity {c.entity!r} is not writable: {NOT_WRITABLE_ENTITIES[entity_name]}")
    entity = ENTITIES.get(entity_name)
    if entity is None:
        raise InvalidValue(f"unknown entity {c.entity!r} (writable: {', '.join(sorted(ENTITIES))})")
    field_name = c.field.strip().lower()
    if field_name in entity.read_only:
        why = entity.read_only[field_name]
        raise InvalidValue(f"field {c.field!r} of {entity_name} is not writable: {why}")
    spec = entity.fields.get(field_name)
    if spec is None:
        raise InvalidValue(
            f"unknown field {c.field!r} for {entity_name} (writable: {', '.join(sorted(entity.fields))})"
        )
    remote_id = parse_record_id(c.record_id, c.tenant)
    new_value = normalize_value(spec, c.new_value)
    expected = c.expected_old_value
    if isinstance(expected, date):
        expected = expected.isoformat()
    if expected is not None and not isinstance(expected, str):
        expected = str(expected)
    if comparable(spec, new_value) == comparable(spec, expected):
        raise InvalidValue("new_value equals expected_old_value: nothing to correct")
    return ValidCorrection(c, entity, spec, remote_id, new_value, None if expected == "" else expected)
