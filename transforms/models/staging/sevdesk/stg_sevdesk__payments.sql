WITH src AS (
    SELECT
        r.tenant_id, r.source_system, r.id AS remote_id, coalesce(r.is_deleted, FALSE) AS is_deleted,
        l.inserted_at AS loaded_at, r.raw
    FROM {{ source('raw_sevdesk', 'check_account_transaction_logs') }} AS r
    LEFT JOIN {{ source('raw_sevdesk', '_dlt_loads') }} AS l ON l.load_id = r._dlt_load_id
),

documents AS (
    SELECT tenant_id, raw_table, remote_id FROM {{ ref('stg_sevdesk__invoices') }}
    UNION ALL
    SELECT tenant_id, raw_table, remote_id FROM {{ ref('stg_sevdesk__credit_notes') }}
    UNION ALL
    SELECT tenant_id, raw_table, remote_id FROM {{ ref('stg_sevdesk__vouchers') }}
),

typed AS (
    SELECT
        s.tenant_id,
        s.source_system,
        s.remote_id,
        s.is_deleted,
        s.loaded_at,
        {{ try_timestamptz(json_raw_text('s.raw', 'create')) }} AS remote_created_at,
        {{ json_raw_text('s.raw', 'object.objectName') }} AS document_model,
        {{ json_raw_text('s.raw', 'object.id') }} AS document_remote_id,
        CASE {{ json_raw_text('s.raw', 'object.objectName') }}
            WHEN 'Invoice' THEN 'raw_sevdesk.invoices' WHEN 'CreditNote' THEN 'raw_sevdesk.credit_notes'
            WHEN 'Voucher' THEN 'raw_sevdesk.vouchers'
        END AS document_raw_table,
        {{ try_decimal(json_raw_text('s.raw', 'amountPaid')) }} AS signed_amount,
        {{ berlin_date(json_raw_text('s.raw', 'bookingDate')) }} AS payment_date,
        {{ json_raw_text('s.raw', 'checkAccountTransaction.id') }} AS transaction_remote_id,
        s.raw AS _raw
    FROM src AS s
)

SELECT
    t.tenant_id, t.source_system, t.remote_id, t.is_deleted, t.loaded_at, t.remote_created_at,
    t.document_model, t.document_remote_id, t.document_raw_table,
    t.signed_amount,
    abs(t.signed_amount) AS amount,
    CASE WHEN t.signed_amount < 0 THEN 'outgoing' ELSE 'incoming' END AS direction,
    t.payment_date,
    t.transaction_remote_id,
    coalesce(tx.is_deleted, FALSE) OR {{ json_raw_text('tx.raw', 'deletedAt') }} IS NOT NULL AS is_transaction_deleted,
    {{ json_raw_text('tx.raw', 'enshrined') }} IS NOT NULL AS is_transaction_enshrined,
    {{ json_raw_text('tx.raw', 'checkAccount.id') }} AS check_account_remote_id,
    CASE {{ json_raw_text('ca.raw', 'type') }}
        WHEN 'online' THEN 'bank' WHEN 'register' THEN 'cash' WHEN 'offline' THEN 'clearing'
    END AS payment_type,
    upper(coalesce({{ json_raw_text('ca.raw', 'currency') }}, 'EUR')) AS currency_code,
    {% call issue_list() %}
        {{ issue(
            "coalesce(t.document_model, '') NOT IN ('Invoice', 'CreditNote', 'Voucher')",
            "object.objectName", "unknown enum value", "t.document_model", "TRUE"
        ) }},
        {{ issue(
            "t.document_raw_table IS NOT NULL AND doc.remote_id IS NULL", "object.id",
            "document not in the warehouse: payment left out", "t.document_remote_id", "TRUE"
        ) }},
        {{ issue(
            "t.signed_amount IS NULL", "amountPaid", "missing or malformed number",
            json_raw_text('t._raw', 'amountPaid'), "TRUE"
        ) }},
        {{ issue(
            json_raw_text('t._raw', 'bookingDate') ~ " IS NOT NULL AND t.payment_date IS NULL",
            "bookingDate", "malformed date", json_raw_text('t._raw', 'bookingDate'), "TRUE"
        ) }}
    {% endcall %} AS _issues
FROM typed AS t
LEFT JOIN documents AS doc
    ON doc.tenant_id = t.tenant_id AND doc.raw_table = t.document_raw_table AND doc.remote_id = t.document_remote_id
LEFT JOIN {{ source('raw_sevdesk', 'check_account_transactions') }} AS tx
    ON tx.tenant_id = t.tenant_id AND tx.id = t.transaction_remote_id
LEFT JOIN {{ source('raw_sevdesk', 'check_accounts') }} AS ca
    ON ca.tenant_id = t.tenant_id AND ca.id = {{ json_raw_text('tx.raw', 'checkAccount.id') }}
