WITH raw_documents AS (
    SELECT tenant_id, source_system, id, version, is_deleted, _dlt_load_id, raw,
        'invoice' AS document_type, 'raw_lexware.invoices' AS raw_table
    FROM {{ source('raw_lexware', 'invoices') }}
    UNION ALL
    SELECT tenant_id, source_system, id, version, is_deleted, _dlt_load_id, raw,
        'creditnote' AS document_type, 'raw_lexware.credit_notes' AS raw_table
    FROM {{ source('raw_lexware', 'credit_notes') }}
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
    LEFT JOIN {{ source('raw_lexware', '_dlt_loads') }} AS l ON l.load_id = r._dlt_load_id
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
        {{ berlin_date('j.voucherDate') }} AS issue_date,
        {{ berlin_date('j.dueDate') }} AS due_date,
        {{ berlin_date('j.shippingConditions.shippingDate') }} AS service_date,
        j.address.contactId AS contact_remote_id,
        j.address.name AS contact_name,
        upper(coalesce(j.totalPrice.currency, 'EUR')) AS currency_code,
        j.taxConditions.taxType AS tax_type,
        TRY_CAST(j.totalPrice.totalNetAmount AS DECIMAL(18, 2)) AS net_amount,
        TRY_CAST(j.totalPrice.totalTaxAmount AS DECIMAL(18, 2)) AS tax_amount,
        TRY_CAST(j.totalPrice.totalGrossAmount AS DECIMAL(18, 2)) AS gross_amount,
        coalesce(TRY_CAST(j.totalPrice.totalDiscountAbsolute AS DECIMAL(18, 2)), 0) AS discount_amount,
        TRY_CAST(j.paymentConditions.paymentTermDuration AS INTEGER) AS payment_term_days,
        list_filter(j.relatedVouchers, lambda v: v.voucherType = 'invoice')[1].id  -- noqa: CP01
            AS related_invoice_remote_id,
        coalesce(j.archived, FALSE) AS is_archived,
        j.title AS title,
        j.remark AS memo,
        j.lineItems AS line_items,
        j.taxAmounts AS tax_amounts,
        j AS _j
    FROM src
    LEFT JOIN {{ ref('stg_lexware__voucher_statuses') }} AS s ON s.source_status = lower(j.voucherStatus)
)

SELECT
    * EXCLUDE (_j),
    {% call issue_list() %}
        {{ issue("_j.voucherDate IS NULL", "voucherDate", "missing required field", "NULL", "TRUE") }},
        {{ issue(
            "_j.voucherDate IS NOT NULL AND issue_date IS NULL",
            "voucherDate", "malformed date", "_j.voucherDate", "TRUE"
        ) }},
        {{ issue(
            "_j.dueDate IS NOT NULL AND due_date IS NULL",
            "dueDate", "malformed date", "_j.dueDate", "TRUE"
        ) }},
        {{ issue(
            "_j.totalPrice.totalGrossAmount IS NULL",
            "totalPrice.totalGrossAmount", "missing required field", "NULL", "TRUE"
        ) }},
        {{ issue(
            "_j.totalPrice.totalGrossAmount IS NOT NULL AND gross_amount IS NULL",
            "totalPrice.totalGrossAmount", "malformed number", "_j.totalPrice.totalGrossAmount", "TRUE"
        ) }},
        {{ issue(
            "status = 'unknown'",
            "voucherStatus", "unknown enum value", "_j.voucherStatus", "FALSE"
        ) }},
        {{ issue(
            "_j.updatedDate IS NOT NULL AND remote_updated_at IS NULL",
            "updatedDate", "malformed date", "_j.updatedDate", "FALSE"
        ) }}
    {% endcall %} AS _issues
FROM typed
