WITH src AS (
    SELECT
        r.tenant_id, r.source_system, r.id AS remote_id, r.version AS raw_version, r.is_deleted, l.inserted_at AS loaded_at,
        from_json(r.raw, '{
            "version": "VARCHAR", "type": "VARCHAR", "voucherStatus": "VARCHAR", "voucherNumber": "VARCHAR",
            "voucherDate": "VARCHAR", "shippingDate": "VARCHAR", "dueDate": "VARCHAR",
            "totalGrossAmount": "VARCHAR", "totalTaxAmount": "VARCHAR", "taxType": "VARCHAR",
            "useCollectiveContact": "BOOLEAN", "contactId": "VARCHAR", "contactName": "VARCHAR",
            "remark": "VARCHAR",
            "voucherItems": [{"amount": "VARCHAR", "taxAmount": "VARCHAR", "taxRatePercent": "VARCHAR",
                              "categoryId": "VARCHAR"}],
            "createdDate": "VARCHAR", "updatedDate": "VARCHAR"
        }') AS j
    FROM {{ source('raw_lexware', 'vouchers') }} AS r
    LEFT JOIN {{ source('raw_lexware', '_dlt_loads') }} AS l ON l.load_id = r._dlt_load_id
),

typed AS (
    SELECT
        src.tenant_id,
        src.source_system,
        src.remote_id,
        coalesce(TRY_CAST(j.version AS BIGINT), src.raw_version) AS remote_version,
        TRY_CAST(j.createdDate AS TIMESTAMPTZ) AS remote_created_at,
        TRY_CAST(j.updatedDate AS TIMESTAMPTZ) AS remote_updated_at,
        src.loaded_at,
        coalesce(src.is_deleted, FALSE) AS is_deleted,
        lower(j.type) AS voucher_type,
        j.voucherNumber AS document_number,
        lower(j.voucherStatus) AS source_status,
        coalesce(s.status, 'unknown') AS status,
        {{ berlin_date('j.voucherDate') }} AS issue_date,
        {{ berlin_date('j.dueDate') }} AS due_date,
        {{ berlin_date('j.shippingDate') }} AS service_date,
        coalesce(j.useCollectiveContact, FALSE) AS uses_collective_contact,
        CASE WHEN NOT coalesce(j.useCollectiveContact, FALSE) THEN j.contactId END AS contact_remote_id,
        j.contactName AS contact_name,
        j.taxType AS tax_type,
        TRY_CAST(j.totalGrossAmount AS DECIMAL(18, 2)) AS gross_amount,
        TRY_CAST(j.totalTaxAmount AS DECIMAL(18, 2)) AS tax_amount,
        'EUR' AS currency_code,
        j.remark AS memo,
        j.voucherItems AS voucher_items,
        j AS _j
    FROM src
    LEFT JOIN {{ ref('stg_lexware__voucher_statuses') }} AS s ON s.source_status = lower(j.voucherStatus)
)

SELECT
    * EXCLUDE (_j),
    (gross_amount - tax_amount)::DECIMAL(18, 2) AS net_amount,
    {% call issue_list() %}
        {{ issue(
            "voucher_type IS NULL OR voucher_type NOT IN ( 'salesinvoice', 'salescreditnote', 'purchaseinvoice', 'purchasecreditnote' )",
            "type", "unknown enum value", "_j.type", "TRUE"
        ) }},
        {{ issue(
            "_j.voucherDate IS NULL AND status <> 'draft'",
            "voucherDate", "missing required field", "NULL", "TRUE"
        ) }},
        {{ issue(
            "_j.voucherDate IS NOT NULL AND issue_date IS NULL",
            "voucherDate", "malformed date", "_j.voucherDate", "TRUE"
        ) }},
        {{ issue(
            "_j.dueDate IS NOT NULL AND due_date IS NULL",
            "dueDate", "malformed date", "_j.dueDate", "TRUE"
        ) }},
        {{ issue(
            "_j.totalGrossAmount IS NOT NULL AND gross_amount IS NULL",
            "totalGrossAmount", "malformed number", "_j.totalGrossAmount", "TRUE"
        ) }},
        {{ issue(
            "status = 'unknown'",
            "voucherStatus", "unknown enum value", "_j.voucherStatus", "FALSE"
        ) }}
    {% endcall %} AS _issues
FROM typed
