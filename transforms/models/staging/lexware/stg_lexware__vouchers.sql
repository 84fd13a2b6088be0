WITH src AS (
    SELECT
        r.tenant_id, r.source_system, r.id AS remote_id, r.version AS raw_version, r.is_deleted, l.inserted_at AS loaded_at,
        {{ json_parse('r.raw', '{
            "version": "VARCHAR", "type": "VARCHAR", "voucherStatus": "VARCHAR", "voucherNumber": "VARCHAR",
            "voucherDate": "VARCHAR", "shippingDate": "VARCHAR", "dueDate": "VARCHAR",
            "totalGrossAmount": "VARCHAR", "totalTaxAmount": "VARCHAR", "taxType": "VARCHAR",
            "useCollectiveContact": "BOOLEAN", "contactId": "VARCHAR", "contactName": "VARCHAR",
            "remark": "VARCHAR",
            "voucherItems": [{"amount": "VARCHAR", "taxAmount": "VARCHAR", "taxRatePercent": "VARCHAR",
                              "categoryId": "VARCHAR"}],
            "createdDate": "VARCHAR", "updatedDate": "VARCHAR"
        }') }} AS j
    FROM {{ source('raw_lexware', 'vouchers') }} AS r
    LEFT JOIN {{ source('raw_lexware', '_dlt_loads') }} AS l ON l.load_id = r._dlt_load_id
),

typed AS (
    SELECT
        src.tenant_id,
        src.source_system,
        src.remote_id,
        coalesce({{ try_cast(json_text('j', 'version'), 'BIGINT') }}, src.raw_version) AS remote_version,
        {{ try_cast(json_text('j', 'createdDate'), 'TIMESTAMPTZ') }} AS remote_created_at,
        {{ try_cast(json_text('j', 'updatedDate'), 'TIMESTAMPTZ') }} AS remote_updated_at,
        src.loaded_at,
        coalesce(src.is_deleted, FALSE) AS is_deleted,
        lower({{ json_text('j', 'type') }}) AS voucher_type,
        {{ json_text('j', 'voucherNumber') }} AS document_number,
        lower({{ json_text('j', 'voucherStatus') }}) AS source_status,
        coalesce(s.status, 'unknown') AS status,
        {{ berlin_date(json_text('j', 'voucherDate')) }} AS issue_date,
        {{ berlin_date(json_text('j', 'dueDate')) }} AS due_date,
        {{ berlin_date(json_text('j', 'shippingDate')) }} AS service_date,
        coalesce({{ json_bool('j', 'useCollectiveContact') }}, FALSE) AS uses_collective_contact,
        CASE WHEN NOT coalesce({{ json_bool('j', 'useCollectiveContact') }}, FALSE) THEN {{ json_text('j', 'contactId') }} END
            AS contact_remote_id,
        {{ json_text('j', 'contactName') }} AS contact_name,
        {{ json_text('j', 'taxType') }} AS tax_type,
        {{ try_cast(json_text('j', 'totalGrossAmount'), 'DECIMAL(18, 2)') }} AS gross_amount,
        {{ try_cast(json_text('j', 'totalTaxAmount'), 'DECIMAL(18, 2)') }} AS tax_amount,
        'EUR' AS currency_code,
        {{ json_text('j', 'remark') }} AS memo,
        {{ json_get('j', 'voucherItems') }} AS voucher_items,
        j AS _j
    FROM src
    LEFT JOIN {{ ref('stg_lexware__voucher_statuses') }} AS s ON s.source_status = lower({{ json_text('j', 'voucherStatus') }})
)

SELECT
    tenant_id, source_system, remote_id, remote_version, remote_created_at, remote_updated_at, loaded_at, is_deleted,
    voucher_type, document_number, source_status, status, issue_date, due_date, service_date, uses_collective_contact,
    contact_remote_id, contact_name, tax_type, gross_amount, tax_amount, currency_code, memo, voucher_items,
    (gross_amount - tax_amount)::DECIMAL(18, 2) AS net_amount,
    {% call issue_list() %}
        {{ issue(
            "voucher_type IS NULL OR voucher_type NOT IN ( 'salesinvoice', 'salescreditnote', 'purchaseinvoice', 'purchasecreditnote' )",
            "type", "unknown enum value", json_text('_j', 'type'), "TRUE"
        ) }},
        {{ issue(
            json_text('_j', 'voucherDate') ~ " IS NULL AND status <> 'draft'",
            "voucherDate", "missing required field", "NULL", "TRUE"
        ) }},
        {{ issue(
            json_text('_j', 'voucherDate') ~ " IS NOT NULL AND issue_date IS NULL",
            "voucherDate", "malformed date", json_text('_j', 'voucherDate'), "TRUE"
        ) }},
        {{ issue(
            json_text('_j', 'dueDate') ~ " IS NOT NULL AND due_date IS NULL",
            "dueDate", "malformed date", json_text('_j', 'dueDate'), "TRUE"
        ) }},
        {{ issue(
            json_text('_j', 'totalGrossAmount') ~ " IS NOT NULL AND gross_amount IS NULL",
            "totalGrossAmount", "malformed number", json_text('_j', 'totalGrossAmount'), "TRUE"
        ) }},
        {{ issue(
            "status = 'unknown'",
            "voucherStatus", "unknown enum value", json_text('_j', 'voucherStatus'), "FALSE"
        ) }}
    {% endcall %} AS _issues
FROM typed
