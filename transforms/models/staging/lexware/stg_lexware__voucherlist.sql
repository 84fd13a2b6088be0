WITH src AS (
    SELECT
        r.tenant_id, r.source_system, r.id AS remote_id, r.is_deleted, l.inserted_at AS loaded_at,
        {{ json_parse('r.raw', '{
            "voucherType": "VARCHAR", "voucherStatus": "VARCHAR", "voucherNumber": "VARCHAR",
            "voucherDate": "VARCHAR", "createdDate": "VARCHAR", "updatedDate": "VARCHAR",
            "dueDate": "VARCHAR", "contactId": "VARCHAR", "contactName": "VARCHAR",
            "totalAmount": "VARCHAR", "openAmount": "VARCHAR", "currency": "VARCHAR", "archived": "BOOLEAN"
        }') }} AS j
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
        lower({{ json_text('j', 'voucherType') }}) AS voucher_type,
        lower({{ json_text('j', 'voucherStatus') }}) AS source_status,
        coalesce(s.status, 'unknown') AS status,
        {{ json_text('j', 'voucherNumber') }} AS document_number,
        {{ berlin_date(json_text('j', 'voucherDate')) }} AS issue_date,
        {{ berlin_date(json_text('j', 'dueDate')) }} AS due_date,
        {{ try_cast(json_text('j', 'createdDate'), 'TIMESTAMPTZ') }} AS remote_created_at,
        {{ try_cast(json_text('j', 'updatedDate'), 'TIMESTAMPTZ') }} AS remote_updated_at,
        {{ json_text('j', 'contactId') }} AS contact_remote_id,
        {{ json_text('j', 'contactName') }} AS contact_name,
        {{ try_cast(json_text('j', 'totalAmount'), 'DECIMAL(18, 2)') }} AS total_amount,
        {{ try_cast(json_text('j', 'openAmount'), 'DECIMAL(18, 2)') }} AS open_amount,
        upper(coalesce({{ json_text('j', 'currency') }}, 'EUR')) AS currency_code,
        coalesce({{ json_bool('j', 'archived') }}, FALSE) AS is_archived,
        j AS _j
    FROM src
    LEFT JOIN {{ ref('stg_lexware__voucher_statuses') }} AS s ON s.source_status = lower({{ json_text('j', 'voucherStatus') }})
)

SELECT
    tenant_id, source_system, remote_id, is_deleted, loaded_at, voucher_type, source_status, status, document_number,
    issue_date, due_date, remote_created_at, remote_updated_at, contact_remote_id, contact_name, total_amount,
    open_amount, currency_code, is_archived,
    {% call issue_list() %}
        {{ issue(
            "voucher_type NOT IN ('invoice', 'creditnote', 'salesinvoice', 'salescreditnote', 'purchaseinvoice',
                'purchasecreditnote', 'downpaymentinvoice', 'orderconfirmation', 'quotation', 'deliverynote')
                OR voucher_type IS NULL",
            "voucherType", "unknown enum value", json_text('_j', 'voucherType'), "FALSE"
        ) }},
        {{ issue(
            "status = 'unknown' AND source_status NOT IN ('accepted', 'rejected')",
            "voucherStatus", "unknown enum value", json_text('_j', 'voucherStatus'), "FALSE"
        ) }},
        {{ issue(
            json_text('_j', 'openAmount') ~ " IS NOT NULL AND open_amount IS NULL",
            "openAmount", "malformed number", json_text('_j', 'openAmount'), "FALSE"
        ) }}
    {% endcall %} AS _issues
FROM typed
