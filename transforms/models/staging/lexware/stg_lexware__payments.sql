WITH src AS (
    SELECT
        r.tenant_id, r.source_system, r.id AS remote_id, r.is_deleted, l.inserted_at AS loaded_at,
        {{ json_parse('r.raw', '{
            "openAmount": "VARCHAR", "currency": "VARCHAR", "paymentStatus": "VARCHAR",
            "voucherType": "VARCHAR", "voucherStatus": "VARCHAR", "paidDate": "VARCHAR",
            "paymentItems": [{"paymentItemType": "VARCHAR", "postingDate": "VARCHAR", "amount": "VARCHAR",
                              "currency": "VARCHAR"}]
        }') }} AS j
    FROM {{ source('raw_lexware', 'payments') }} AS r
    LEFT JOIN {{ source('raw_lexware', '_dlt_loads') }} AS l ON l.load_id = r._dlt_load_id
)

SELECT
    tenant_id,
    source_system,
    remote_id,
    coalesce(is_deleted, FALSE) AS is_deleted,
    loaded_at,
    {{ try_cast(json_text('j', 'openAmount'), 'DECIMAL(18, 2)') }} AS open_amount,
    upper(coalesce({{ json_text('j', 'currency') }}, 'EUR')) AS currency_code,
    {{ json_text('j', 'paymentStatus') }} AS payment_status,
    lower({{ json_text('j', 'voucherType') }}) AS voucher_type,
    lower({{ json_text('j', 'voucherStatus') }}) AS source_status,
    {{ berlin_date(json_text('j', 'paidDate')) }} AS paid_on,
    {{ json_get('j', 'paymentItems') }} AS payment_items,
    {% call issue_list() %}
        {{ issue(
            json_text('j', 'openAmount') ~ " IS NOT NULL AND "
                ~ try_cast(json_text('j', 'openAmount'), 'DECIMAL(18, 2)') ~ " IS NULL",
            "openAmount", "malformed number", json_text('j', 'openAmount'), "TRUE"
        ) }},
        {{ issue(
            json_text('j', 'paidDate') ~ " IS NOT NULL AND " ~ try_cast(json_text('j', 'paidDate'), 'TIMESTAMPTZ') ~ " IS NULL",
            "paidDate", "malformed date", json_text('j', 'paidDate'), "TRUE"
        ) }},
        {{ issue(
            "coalesce(" ~ json_text('j', 'paymentStatus') ~ ", '') NOT IN ('balanced', 'openRevenue', 'openExpense')",
            "paymentStatus", "unknown enum value", json_text('j', 'paymentStatus'), "FALSE"
        ) }}
    {% endcall %} AS _issues
FROM src
