"""Write-back without the network: field map paths, validation reasons, file import, the schema."""

from __future__ import annotations

import duckdb
import pytest

from pipelines.writeback.inputs import CorrectionFileError, import_corrections_file, read_corrections_file
from pipelines.writeback.model import Correction
from pipelines.writeback.paths import PathError, get_path, set_path
from pipelines.writeback.payloads import NotUpdatable, check_updatable, put_body
from pipelines.writeback.store import WritebackStore
from pipelines.writeback.validation import InvalidValue, normalize_vat_id, validate

RID = "d2b5c3f1-9e44-4a0b-9c2d-6f7a8e1b3c55"
CAT = "8f8664a8-fd86-11e1-a21f-0800200c9a66"


def corr(**kw) -> Correction:
    base = dict(
        tenant="demo",
        entity="contact",
        record_id=f"lexware:demo:{RID}",
        field="vat_id",
        new_value="DE136695976",
        expected_old_value="DE298765432",
    )
    return Correction(**{**base, **kw})


def reason(**kw) -> str:
    with pytest.raises(InvalidValue) as info:
        validate(corr(**kw), known_tenants={"demo"})
    return str(info.value)


# --- paths ------------------------------------------------------------------------------------------
def test_paths_read_write_alternatives_lists_and_clearing():
    doc = {
        "emailAddresses": {"private": ["a@x.de"]},
        "addresses": {"billing": [{"city": "Kiel"}]},
        "voucherItems": [{"categoryId": "a"}, {"categoryId": "a"}],
    }
    email = "emailAddresses.{business,office,private,other}[0]"
    assert get_path(doc, email) == "a@x.de"
    set_path(doc, email, "b@x.de")  # replaced where it was, not added to 'business'
    assert doc["emailAddresses"] == {"private": ["b@x.de"]}
    set_path(doc, "addresses.billing[0].zip", "24103")
    assert doc["addresses"]["billing"] == [{"city": "Kiel", "zip": "24103"}]
    set_path(doc, "voucherItems[*].categoryId", "b")
    assert get_path(doc, "voucherItems[*].categoryId") == "b"
    doc["voucherItems"][0]["categoryId"] = "c"
    with pytest.raises(PathError, match="different values"):
        get_path(doc, "voucherItems[*].categoryId")
    set_path(doc, email, None)  # clearing prunes the emptied containers
    assert "emailAddresses" not in doc
    empty: dict = {}
    assert get_path(empty, "company.vatRegistrationId") is None
    set_path(empty, email, "new@x.de")
    assert empty == {"emailAddresses": {"business": ["new@x.de"]}}


# --- validation --------------------------------------------------------------------------------------
def test_valid_correction_is_resolved_and_normalised():
    vc = validate(corr(new_value="de 136 695 976", record_id=RID.upper()), known_tenants={"demo"})
    assert vc.new_value == "DE136695976"
    assert vc.remote_id == RID
    assert vc.resource_path == f"/v1/contacts/{RID}"
    assert vc.field.path == "company.vatRegistrationId"
    bill = validate(
        corr(entity="bills", field="due_date", new_value="2025-10-31", expected_old_value="2025-10-12")
    )
    assert bill.resource_path == f"/v1/vouchers/{RID}"


@pytest.mark.parametrize(
    ("kw", "expected"),
    [
        (dict(tenant="acme"), "unknown tenant 'acme'"),
        (dict(entity="customer"), "unknown entity 'customer'"),
        (dict(entity="invoice", field="due_date"), "invoices are create-only"),
        (dict(field="vat"), "unknown field 'vat' for contact (writable:"),
        (dict(field="customer_number", new_value="10001"), "assigned by Lexware"),
        (dict(entity="bill", field="gross_amount", new_value="1.00"), "derived from the voucher items"),
        (dict(new_value="DE12345678"), "does not match the DE format"),
        (dict(new_value="DE123456789"), "wrong check digit"),
        (dict(new_value="XX123456789"), "must start with a country prefix"),
        (dict(field="email", new_value="max.mustermann@", expected_old_value=None), "not a valid e-mail"),
        (dict(field="email", new_value="a b@x.de", expected_old_value=None), "not a valid e-mail"),
        (dict(entity="bill", field="due_date", new_value="31.10.2025"), "not a date in the form YYYY-MM-DD"),
        (dict(entity="bill", field="due_date", new_value="2025-02-30"), "not a date in the form YYYY-MM-DD"),
        (dict(entity="bill", field="posting_category_id", new_value="Büro"), "not a Lexware id"),
        (dict(field="billing_country_code", new_value="Germany"), "not an ISO 3166"),
        (dict(field="note", new_value="x" * 1001), "at most 1000 allowed"),
        (dict(field="zip", new_value=24103), "unknown field 'zip'"),
        (dict(field="billing_postal_code", new_value=24103), "expects text, got int"),
        (dict(field="name", new_value=None), "name cannot be cleared"),
        (dict(record_id="lexware:other:" + RID), "belongs to tenant 'other'"),
        (dict(record_id="12345"), "not a Lexware id"),
        (dict(record_id="../profile"), "not a Lexware id"),
        (dict(new_value="DE136695976", expected_old_value="de136695976"), "nothing to correct"),
        (dict(field=None), "field is missing"),
        (dict(record_id=12345), "record_id 12345 is a number; expected: a Lexware id (UUID)"),
        (dict(tenant=7), "tenant 7 is a number; expected: text"),
    ],
)
def test_invalid_corrections_get_a_precise_reason(kw, expected):
    assert expected in reason(**kw)


def test_vat_ids_of_several_countries():
    assert normalize_vat_id("ATU12345678") == "ATU12345678"
    assert normalize_vat_id("FR 40 303 265 045") == "FR40303265045"
    assert normalize_vat_id("NL123456789B01") == "NL123456789B01"
    assert normalize_vat_id("EL123456789") == "EL123456789"
    with pytest.raises(InvalidValue):
        normalize_vat_id("GR123456789")  # Greece uses EL


# --- payloads ----------------------------------------------------------------------------------------
def test_voucher_put_body_keeps_files_and_drops_status_and_converts_dates():
    doc = {
        "id": RID,
        "version": 3,
        "voucherStatus": "open",
        "organizationId": "o",
        "files": ["f1"],
        "voucherDate": "2025-09-28T00:00:00.000+02:00",
        "dueDate": "2025-10-12T00:00:00.000+02:00",
        "contactId": RID,
        "contactName": "Elbufer",
        "createdDate": "x",
        "updatedDate": "y",
    }
    body = put_body("vouchers", doc)
    assert body == {
        "id": RID,
        "version": 3,
        "files": ["f1"],
        "voucherDate": "2025-09-28",
        "dueDate": "2025-10-12",
        "contactId": RID,
    }
    assert doc["voucherStatus"] == "open"  # the fetched record itself is untouched


def test_records_lexware_cannot_update_are_refused_with_a_reason():
    with pytest.raises(NotUpdatable, match=r"addresses\.billing.*fix it in the Lexware app"):
        check_updatable("contacts", {"addresses": {"billing": [{}, {}]}})
    with pytest.raises(NotUpdatable, match=r"emailAddresses\.business"):
        check_updatable("contacts", {"emailAddresses": {"business": ["a@x.de", "b@x.de"]}})
    with pytest.raises(NotUpdatable, match="unchecked"):
        check_updatable("vouchers", {"voucherStatus": "unchecked"})
    check_updatable("contacts", {"emailAddresses": {"business": ["a@x.de"], "private": ["b@x.de"]}})


# --- inputs and the schema ---------------------------------------------------------------------------
def test_sql_insert_with_defaults_and_status_check(tmp_path):
    store = WritebackStore.open(tmp_path / "wh.duckdb")
    with store.connect() as con:
        con.execute(
            "INSERT INTO writeback.corrections "
            "(tenant, entity, record_id, field, new_value, expected_old_value) "
            f"VALUES ('demo', 'contact', 'lexware:demo:{RID}', 'vat_id', 'DE136695976', 'DE298765432')"
        )
    [c] = store.open_corrections()
    assert (c.id, c.status, c.source, c.new_value) == (1, "pending", "sql", "DE136695976")
    with pytest.raises(duckdb.ConstraintException), store.connect() as con:
        con.execute("UPDATE writeback.corrections SET status = 'done'")
    WritebackStore.open(tmp_path / "wh.duckdb")  # idempotent schema creation keeps the rows
    assert store.count_by_status() == {"pending": 1}


def test_csv_and_yaml_files_import_valid_rows_and_reject_bad_ones(tmp_path):
    store = WritebackStore.open(tmp_path / "wh.duckdb")
    csv_file = tmp_path / "fixes.csv"
    csv_file.write_text(
        "tenant,entity,record_id,field,new_value,expected_old_value\n"
        f"demo,contact,{RID},email,info@elbufer.example,\n"
        f"demo,contact,{RID},email,not-an-email,old@x.de\n",
        encoding="utf-8",
    )
    yaml_file = tmp_path / "fixes.yaml"
    yaml_file.write_text(
        f"""
corrections:
  - {{tenant: demo, entity: bill, record_id: '{RID}', field: due_date,
      new_value: 2025-10-31, expected_old_value: 2025-10-12}}
  - {{tenant: demo, entity: bill, record_id: '{RID}', field: posting_category_id,
      new_value: 'lexware:demo:{CAT}', expected_old_value: null}}
  - {{tenant: demo, entity: contact, record_id: '{RID}', field: billing_postal_code, new_value: 2045}}
""",
        encoding="utf-8",
    )
    ids = import_corrections_file(store, csv_file, {"demo"})
    ids += import_corrections_file(store, yaml_file, {"demo"})
    assert len(ids) == 5
    with store.connect() as con:
        rows = con.execute(
            "SELECT field, new_value, expected_old_value, status, reason, source "
            "FROM writeback.corrections ORDER BY id"
        ).fetchall()
    assert [r[3] for r in rows] == ["pending", "rejected", "pending", "pending", "rejected"]
    assert rows[0][2] is None  # empty CSV cell = expected empty
    assert "not a valid e-mail" in rows[1][4]
    assert rows[2][1:3] == ("2025-10-31", "2025-10-12")  # YAML dates keep their ISO text
    assert "expects text, got int" in rows[4][4]
    assert rows[0][5] == "file:fixes.csv" and rows[4][5] == "file:fixes.yaml"


def test_bad_files_are_refused_as_a_whole(tmp_path):
    bad_header = tmp_path / "a.csv"
    bad_header.write_text("tenant,entity,record_id,field,new_vale\n", encoding="utf-8")
    with pytest.raises(CorrectionFileError, match=r"lacks column.*new_value"):
        read_corrections_file(bad_header)
    bad_yaml = tmp_path / "b.yaml"
    bad_yaml.write_text("tenant: demo\n", encoding="utf-8")
    with pytest.raises(CorrectionFileError, match="expected a list"):
        read_corrections_file(bad_yaml)
    with pytest.raises(CorrectionFileError, match="unsupported file type"):
        read_corrections_file(tmp_path / "c.xlsx")


def test_email_is_corrected_where_the_cdm_found_it():
    from pipelines.writeback.fields import CONTACT, locate

    spec = CONTACT.fields["email"]
    only_person = {"company": {"contactPersons": [{"lastName": "Hansen", "emailAddress": "m@x.de"}]}}
    assert locate(spec, only_person) == "company.contactPersons[0].emailAddress"
    both = {**only_person, "emailAddresses": {"office": ["o@x.de"]}}
    assert get_path(both, locate(spec, both)) == "o@x.de"
    assert locate(spec, {}) == spec.path  # nothing anywhere: a new business address


def test_an_unknown_field_is_refused_at_insert_with_the_writable_fields_listed(tmp_path):
    store = WritebackStore.open(tmp_path / "wh.duckdb")
    insert = (
        "INSERT INTO writeback.corrections (tenant, entity, record_id, field, new_value) "
        "VALUES ('demo', ?, ?, ?, 'x')"
    )
    with pytest.raises(duckdb.ConstraintException) as err, store.connect() as con:
        con.execute(insert, ["bill", RID, "duedate"])
    assert (
        "unknown field 'duedate' for bill (writable: document_number, due_date, issue_date, memo, "
        "posting_category_id, service_date)"
    ) in str(err.value)
    with (
        pytest.raises(
            duckdb.ConstraintException,
            match=r"unknown field 'vatid' for contact \(writable: "
            r"billing_city, .*vat_id\)",
        ),
        store.connect() as con,
    ):
        con.execute(insert, ["Contacts", RID, "vatid"])
    # known fields pass, and so do read-only ones and non-writable entities: validation gives their reason
    with store.connect() as con:
        for entity, field in (("Contacts", " VAT_ID "), ("contact", "customer_number"), ("invoice", "x")):
            con.execute(insert, [entity, RID, field])
    assert store.count_by_status() == {"pending": 3}
    # a file import keeps an unknown field as a rejected row with its reason
    path = tmp_path / "fixes.yaml"
    path.write_text(f"- {{tenant: demo, entity: contact, record_id: {RID}, field: vatid, new_value: x}}\n")
    [cid] = import_corrections_file(store, path, {"demo"})
    assert store.get(cid).status == "rejected" and "unknown field 'vatid'" in store.get(cid).reason
