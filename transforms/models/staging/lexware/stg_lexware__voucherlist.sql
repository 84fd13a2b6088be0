WITH src AS (
    SELECT
        r.tenant_id, r.source_system, r.id AS remote_id, r.is_deleted, l.inserted_at AS loaded_at,
        from_json(r.raw, '{
            "voucherType": "VARCHAR", "voucherStatus": "VARCHAR", "voucherNumber": "VARCHAR",
            "voucherDate": "VARCHAR", "createdDate": "VARCHAR", "updatedDate": "VARCHAR",
            "dueDate": "VARCHAR", "contactId": "VARCHAR", "contactName": "VARCHAR",
            "totalAmount": "VARCHAR", "openAmount": "VARCHAR", "currency": "VARCHAR", "archived": "BOOLEAN"
        }') AS j
    FROM {{ source('raw_lexware', 'voucherlist') }} AS r
    LEFT JOIN {{ source('raw_lexware', '_dlt_loads') }} AS l ON l.load_id = r._dlt_load_id
),

typed AS (
    SELECT
        src.tenant_id,
        src.source_system,
        src.remote_id,
        coalesce(src.is_deleted, FALSE) AS is_deleted,
        src.loaded_at,
        lower(j.voucherType) AS voucher_type,
        lower(j.voucherStatus) AS source_status,
        coalesce(s.status, 'unknown') AS status,
        j.voucherNumber AS document_number,
        {{ berlin_date('j.voucherDate') }} AS issue_date,
        {{ berlin_date('j.dueDate') }} AS due_date,
        TRY_CAST(j.createdDate AS TIMESTAMPTZ) AS remote_created_at,
        TRY_CAST(j.updatedDate AS TIMESTAMPTZ) AS remote_updated_at,
        j.contactId AS contact_remote_id,
        j.contactName AS contact_name,
        TRY_CAST(j.totalAmount AS DECIMAL(18, 2)) AS total_amount,
        TRY_CAST(j.openAmount AS DECIMAL(18, 2)) AS open_amount,
        upper(coalesce(j.currency, 'EUR')) AS currency_code,
        coalesce(j.archived, FALSE) AS is_archived,
        j AS _j
    FROM src
    LEFT JOIN {{ ref('stg_lexware__voucher_statuses') }} AS s ON s.source_status = lower(j.voucherStatus)
)

SELECT
    * EXCLUDE (_j),
    {% call issue_list() %}
        {{ issue(
            "voucher_type NOT IN ('invoice', 'creditnote', 'salesinvoice', 'salescreditnote', 'purchaseinvoice',
                'purchasecreditnote', 'downpaymentinvoice', 'orderconfirmation', 'quotation', 'deliverynote')
                OR voucher_type IS NULL",
            "voucherType", "unknown enum value", "_j.voucherType", "FALSE"
        ) }},
        {{ issue(
            "status = 'unknown' AND source_status NOT IN ('accepted', 'rejected')",
            "voucherStatus", "unknown enum value", "_j.voucherStatus", "FALSE"
        ) }},
        {{ issue(
            "_j.openAmount IS NOT NULL AND open_amount IS NULL",
            "openAmount", "malformed number", "_j.openAmount", "FALSE"
        ) }}
    {% endcall %} AS _issues
FROM typed
