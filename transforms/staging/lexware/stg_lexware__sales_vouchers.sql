-- Lexware sales documents written in Lexware: invoices (/v1/invoices, document_type "invoice") and
-- credit notes (/v1/credit-notes, document_type "creditnote"), one row per document, typed. Line items
-- stay as a list in `line_items` (unnested by stg_lexware__sales_voucher_lines), Lexware's net and tax per
-- rate after document-level discounts as a list in `tax_amounts` (unnested by
-- stg_lexware__sales_voucher_tax_amounts).
-- Dates are the calendar dates in Europe/Berlin of the dateTimes Lexware renders (converted, whatever the offset).
-- grain: tenant_id, remote_id
WITH raw_documents AS (
    SELECT tenant_id, source_system, id, version, is_deleted, _dlt_load_id, raw,
        'invoice' AS document_type, 'raw_lexware.invoices' AS raw_table
    FROM raw_lexware.invoices
    UNION ALL
    SELECT tenant_id, source_system, id, version, is_deleted, _dlt_load_id, raw,
        'creditnote' AS document_type, 'raw_lexware.credit_notes' AS raw_table
    FROM raw_lexware.credit_notes
),

src AS (
    SELECT
        r.tenant_id, r.source_system, r.id AS remote_id, r.version AS raw_version, r.is_deleted,
        l.inserted_at AS loaded_at, r.document_type, r.raw_table,
        from_json(r.raw, '{
            "version": "VARCHAR", "createdDate": "VARCHAR", "updatedDate": "VARCHAR",
            "archived": "BOOLEAN", "voucherStatus": "VARCHAR", "voucherNumber": "VARCHAR",
            "voucherDate": "VARCHAR", "dueDate": "VARCHAR", "language": "VARCHAR",
            "address": {"contactId": "VARCHAR", "name": "VARCHAR"},
            "lineItems": [{"id": "VARCHAR", "type": "VARCHAR", "name": "VARCHAR", "description": "VARCHAR",
                           "quantity": "VARCHAR", "unitName": "VARCHAR",
                           "unitPrice": {"currency": "VARCHAR", "netAmount": "VARCHAR",
                                         "grossAmount": "VARCHAR", "taxRatePercentage": "VARCHAR"},
                           "discountPercentage": "VARCHAR", "lineItemAmount": "VARCHAR"}],
            "totalPrice": {"currency": "VARCHAR", "totalNetAmount": "VARCHAR", "totalGrossAmount": "VARCHAR",
                           "totalTaxAmount": "VARCHAR", "totalDiscountAbsolute": "VARCHAR"},
            "taxAmounts": [{"taxRatePercentage": "VARCHAR", "taxAmount": "VARCHAR", "netAmount": "VARCHAR"}],
            "taxConditions": {"taxType": "VARCHAR"},
            "paymentConditions": {"paymentTermDuration": "VARCHAR"},
            "shippingConditions": {"shippingDate": "VARCHAR", "shippingType": "VARCHAR"},
            "relatedVouchers": [{"id": "VARCHAR", "voucherType": "VARCHAR"}],
            "title": "VARCHAR", "remark": "VARCHAR"
        }') AS j
    FROM raw_documents AS r
    LEFT JOIN raw_lexware._dlt_loads AS l ON l.load_id = r._dlt_load_id
),

typed AS (
    SELECT
        src.tenant_id,
        src.source_system,
        src.remote_id,
        src.document_type,
        src.raw_table,
        coalesce(TRY_CAST(j.version AS BIGINT), src.raw_version) AS remote_version,
        TRY_CAST(j.createdDate AS TIMESTAMPTZ) AS remote_created_at,
        TRY_CAST(j.updatedDate AS TIMESTAMPTZ) AS remote_updated_at,
        src.loaded_at,
        coalesce(src.is_deleted, FALSE) AS is_deleted,
        j.voucherNumber AS document_number,
        lower(j.voucherStatus) AS source_status,
        coalesce(s.status, 'unknown') AS status,
        timezone('Europe/Berlin', TRY_CAST(j.voucherDate AS TIMESTAMPTZ))::DATE AS issue_date,
        timezone('Europe/Berlin', TRY_CAST(j.dueDate AS TIMESTAMPTZ))::DATE AS due_date,
        timezone('Europe/Berlin', TRY_CAST(j.shippingConditions.shippingDate AS TIMESTAMPTZ))::DATE AS service_date,
        j.address.contactId AS contact_remote_id,
        j.address.name AS contact_name,
        upper(coalesce(j.totalPrice.currency, 'EUR')) AS currency_code,
        j.taxConditions.taxType AS tax_type,
        TRY_CAST(j.totalPrice.totalNetAmount AS DECIMAL(18, 2)) AS net_amount,
        TRY_CAST(j.totalPrice.totalTaxAmount AS DECIMAL(18, 2)) AS tax_amount,
        TRY_CAST(j.totalPrice.totalGrossAmount AS DECIMAL(18, 2)) AS gross_amount,
        coalesce(TRY_CAST(j.totalPrice.totalDiscountAbsolute AS DECIMAL(18, 2)), 0) AS discount_amount,
        TRY_CAST(j.paymentConditions.paymentTermDuration AS INTEGER) AS payment_term_days,
        list_filter(j.relatedVouchers, lambda v: v.voucherType = 'invoice')[1].id AS related_invoice_remote_id,
        coalesce(j.archived, FALSE) AS is_archived,
        j.title AS title,
        j.remark AS memo,
        j.lineItems AS line_items,
        j.taxAmounts AS tax_amounts,
        j AS _j
    FROM src
    LEFT JOIN staging.stg_lexware__voucher_statuses AS s ON s.source_status = lower(j.voucherStatus)
)

SELECT
    * EXCLUDE (_j),
    list_filter([
        CASE WHEN _j.voucherDate IS NULL THEN {
            'field': 'voucherDate', 'reason': 'missing required field',
            'source_value': NULL::VARCHAR, 'blocking': TRUE
        } WHEN issue_date IS NULL THEN {
            'field': 'voucherDate', 'reason': 'malformed date', 'source_value': _j.voucherDate, 'blocking': TRUE
        } END,
        CASE WHEN _j.dueDate IS NOT NULL AND due_date IS NULL THEN {
            'field': 'dueDate', 'reason': 'malformed date', 'source_value': _j.dueDate, 'blocking': TRUE
        } END,
        CASE WHEN _j.totalPrice.totalGrossAmount IS NULL THEN {
            'field': 'totalPrice.totalGrossAmount', 'reason': 'missing required field',
            'source_value': NULL::VARCHAR, 'blocking': TRUE
        } WHEN gross_amount IS NULL THEN {
            'field': 'totalPrice.totalGrossAmount', 'reason': 'malformed number',
            'source_value': _j.totalPrice.totalGrossAmount, 'blocking': TRUE
        } END,
        CASE WHEN status = 'unknown' THEN {
            'field': 'voucherStatus', 'reason': 'unknown enum value',
            'source_value': _j.voucherStatus, 'blocking': FALSE
        } END,
        CASE WHEN _j.updatedDate IS NOT NULL AND remote_updated_at IS NULL THEN {
            'field': 'updatedDate', 'reason': 'malformed date', 'source_value': _j.updatedDate, 'blocking': FALSE
        } END
    ], lambda i: i IS NOT NULL) AS _issues
FROM typed
