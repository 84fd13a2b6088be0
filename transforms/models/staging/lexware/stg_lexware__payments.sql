WITH src AS (
    SELECT
        r.tenant_id, r.source_system, r.id AS remote_id, r.is_deleted, l.inserted_at AS loaded_at,
        from_json(r.raw, '{
            "openAmount": "VARCHAR", "currency": "VARCHAR", "paymentStatus": "VARCHAR",
            "voucherType": "VARCHAR", "voucherStatus": "VARCHAR", "paidDate": "VARCHAR",
            "paymentItems": [{"paymentItemType": "VARCHAR", "postingDate": "VARCHAR", "amount": "VARCHAR",
                              "currency": "VARCHAR"}]
        }') AS j
    FROM {{ source('raw_lexware', 'payments') }} AS r
    LEFT JOIN {{ source('raw_lexware', '_dlt_loads') }} AS l ON l.load_id = r._dlt_load_id
)

SELECT
    tenant_id,
    source_system,
    remote_id,
    coalesce(is_deleted, FALSE) AS is_deleted,
    loaded_at,
    TRY_CAST(j.openAmount AS DECIMAL(18, 2)) AS open_amount,
    upper(coalesce(j.currency, 'EUR')) AS currency_code,
    j.paymentStatus AS payment_status,
    lower(j.voucherType) AS voucher_type,
    lower(j.voucherStatus) AS source_status,
    {{ berlin_date('j.paidDate') }} AS paid_on,
    j.paymentItems AS payment_items,
    {% call issue_list() %}
        {{ issue(
            "j.openAmount IS NOT NULL AND TRY_CAST(j.openAmount AS DECIMAL(18, 2)) IS NULL",
            "openAmount", "malformed number", "j.openAmount", "TRUE"
        ) }},
        {{ issue(
            "j.paidDate IS NOT NULL AND TRY_CAST(j.paidDate AS TIMESTAMPTZ) IS NULL",
            "paidDate", "malformed date", "j.paidDate", "TRUE"
        ) }},
        {{ issue(
            "coalesce(j.paymentStatus, '') NOT IN ('balanced', 'openRevenue', 'openExpense')",
            "paymentStatus", "unknown enum value", "j.paymentStatus", "FALSE"
        ) }}
    {% endcall %} AS _issues
FROM src
