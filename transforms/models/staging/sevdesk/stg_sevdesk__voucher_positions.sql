WITH src AS (
    SELECT
        r.tenant_id, r.source_system, r.id AS position_remote_id, coalesce(r.is_deleted, FALSE) AS is_deleted,
        l.inserted_at AS loaded_at, r.raw
    FROM {{ source('raw_sevdesk', 'voucher_positions') }} AS r
    LEFT JOIN {{ source('raw_sevdesk', '_dlt_loads') }} AS l ON l.load_id = r._dlt_load_id
),

typed AS (
    SELECT
        s.tenant_id,
        s.source_system,
        {{ json_raw_text('s.raw', 'voucher.id') }} AS remote_id,
        s.position_remote_id,
        s.is_deleted,
        s.loaded_at,
        coalesce({{ json_raw_text('s.raw', 'net') }}, '1') = '1' AS is_net,
        {{ json_raw_text('s.raw', 'comment') }} AS description,
        {{ try_decimal(json_raw_text('s.raw', 'taxRate'), '5, 2') }} AS tax_rate_percent,
        {{ try_decimal(json_raw_text('s.raw', 'sumNet')) }} AS net_amount,
        {{ try_decimal(json_raw_text('s.raw', 'sumTax')) }} AS tax_amount,
        {{ try_decimal(json_raw_text('s.raw', 'sumGross')) }} AS gross_amount,
        {{ json_raw_text('s.raw', 'accountDatev.id') }} AS account_datev_remote_id,
        {{ json_raw_text('s.raw', 'accountingType.id') }} AS accounting_type_remote_id,
        s.raw AS _raw
    FROM src AS s
)

SELECT
    t.tenant_id, t.source_system, t.remote_id, t.position_remote_id, t.is_deleted, t.loaded_at,
    row_number() OVER (
        PARTITION BY t.tenant_id, t.remote_id, t.is_deleted ORDER BY length(t.position_remote_id), t.position_remote_id
    ) AS line_number,
    t.is_net, t.description, t.tax_rate_percent, t.net_amount, t.tax_amount, t.gross_amount,
    coalesce('AccountDatev:' || t.account_datev_remote_id, 'AccountingType:' || t.accounting_type_remote_id)
        AS posting_category_remote_id,
    CASE
        WHEN t.account_datev_remote_id IS NOT NULL
            THEN concat_ws(' ', {{ json_raw_text('a.raw', 'number') }}, {{ json_raw_text('a.raw', 'name') }})
    END AS posting_category_name,
    {% call issue_list() %}
        {{ issue(
            "t.net_amount IS NULL OR t.gross_amount IS NULL OR t.tax_amount IS NULL", "sumNet|sumTax|sumGross",
            "missing or malformed number", json_raw_text('t._raw', 'sumGross'), "TRUE"
        ) }},
        {{ issue(
            "t.tax_rate_percent IS NULL", "taxRate", "missing or malformed number",
            json_raw_text('t._raw', 'taxRate'), "TRUE"
        ) }}
    {% endcall %} AS _issues
FROM typed AS t
LEFT JOIN {{ source('raw_sevdesk', 'account_datev') }} AS a
    ON a.tenant_id = t.tenant_id AND a.id = t.account_datev_remote_id
