{#- The positions of a sevDesk document kind (invoices, credit notes), typed, numbered per document and
    checked: `table` is the raw_sevdesk positions table, `parent` the object its rows point at
    (`invoice`, `creditNote`). One definition for the staging models of both position lists. -#}
{% macro sevdesk_positions(table, parent) -%}
WITH src AS (
    SELECT
        r.tenant_id, r.source_system, r.id AS position_remote_id, coalesce(r.is_deleted, FALSE) AS is_deleted,
        l.inserted_at AS loaded_at, r.raw
    FROM {{ source('raw_sevdesk', table) }} AS r
    LEFT JOIN {{ source('raw_sevdesk', '_dlt_loads') }} AS l ON l.load_id = r._dlt_load_id
),

typed AS (
    SELECT
        s.tenant_id,
        s.source_system,
        {{ json_raw_text('s.raw', parent ~ '.id') }} AS remote_id,
        s.position_remote_id,
        s.is_deleted,
        s.loaded_at,
        CAST({{ try_decimal(json_raw_text('s.raw', 'positionNumber'), '18, 0') }} AS BIGINT) AS position_number,
        {{ json_raw_text('s.raw', 'name') }} AS name,
        {{ json_raw_text('s.raw', 'text') }} AS description,
        {{ json_raw_text('s.raw', 'part.id') }} AS article_remote_id,
        CASE {{ json_raw_text('s.raw', 'quantity') }} WHEN 'true' THEN 1 ELSE
            {{ try_decimal(json_raw_text('s.raw', 'quantity'), '18, 4') }} END AS quantity,
        {{ json_raw_text('s.raw', 'unity.id') }} AS unity_remote_id,
        {{ try_decimal(json_raw_text('s.raw', 'priceNet'), '18, 4') }} AS unit_price_net,
        {{ try_decimal(json_raw_text('s.raw', 'priceGross'), '18, 4') }} AS unit_price_gross,
        coalesce({{ try_decimal(json_raw_text('s.raw', 'discount'), '9, 2') }}, 0) AS discount_percent,
        {{ try_decimal(json_raw_text('s.raw', 'taxRate'), '5, 2') }} AS tax_rate_percent,
        {{ try_decimal(json_raw_text('s.raw', 'sumNet')) }} AS net_amount,
        {{ try_decimal(json_raw_text('s.raw', 'sumTax')) }} AS tax_amount,
        {{ try_decimal(json_raw_text('s.raw', 'sumGross')) }} AS gross_amount,
        s.raw AS _raw
    FROM src AS s
)

SELECT
    t.tenant_id, t.source_system, t.remote_id, t.position_remote_id, t.is_deleted, t.loaded_at,
    row_number() OVER (
        PARTITION BY t.tenant_id, t.remote_id, t.is_deleted
        ORDER BY t.position_number, length(t.position_remote_id), t.position_remote_id
    ) AS line_number,
    t.name, t.description, t.article_remote_id, t.quantity, {{ json_raw_text('u.raw', 'name') }} AS unit_name, t.unit_price_net,
    t.unit_price_gross, t.discount_percent, t.tax_rate_percent, t.net_amount, t.tax_amount, t.gross_amount,
    {% call issue_list() %}
        {{ issue(
            "t.net_amount IS NULL OR t.gross_amount IS NULL", "sumNet|sumGross", "missing or malformed number",
            json_raw_text('t._raw', 'sumGross'), "TRUE"
        ) }},
        {{ issue(
            "t.tax_rate_percent IS NULL", "taxRate", "missing or malformed number",
            json_raw_text('t._raw', 'taxRate'), "TRUE"
        ) }},
        {{ issue(
            json_raw_text('t._raw', 'quantity') ~ " IS NOT NULL AND t.quantity IS NULL",
            "quantity", "malformed number", json_raw_text('t._raw', 'quantity'), "FALSE"
        ) }}
    {% endcall %} AS _issues
FROM typed AS t
LEFT JOIN {{ source('raw_sevdesk', 'unities') }} AS u
    ON u.tenant_id = t.tenant_id AND u.id = t.unity_remote_id
{%- endmacro %}

{#- The raw rows of a sevDesk document table with their load time; `fields`: {column: JSON path} read up
    front because the models branch on them (status, document type). -#}
{% macro sevdesk_document_source(table, fields) -%}
    SELECT
        r.tenant_id, r.source_system, r.id AS remote_id, coalesce(r.is_deleted, FALSE) AS is_deleted,
        l.inserted_at AS loaded_at, r.raw,
        {%- for column, path in fields.items() %}
        {{ json_raw_text('r.raw', path) }} AS {{ column }}{{ "," if not loop.last }}
        {%- endfor %}
    FROM {{ source('raw_sevdesk', table) }} AS r
    LEFT JOIN {{ source('raw_sevdesk', '_dlt_loads') }} AS l ON l.load_id = r._dlt_load_id
{%- endmacro %}

{#- The columns every sevDesk document header starts with (keys, source table, stamps), from `src` AS s. -#}
{% macro sevdesk_document_keys(table) -%}
        s.tenant_id,
        s.source_system,
        s.remote_id,
        'raw_sevdesk.{{ table }}' AS raw_table,
        {{ try_timestamptz(json_raw_text('s.raw', 'create')) }} AS remote_created_at,
        {{ try_timestamptz(json_raw_text('s.raw', 'update')) }} AS remote_updated_at,
        s.loaded_at,
        s.is_deleted
{%- endmacro %}

{#- Currency and tax scheme of a sevDesk document: 2.0 documents name a `taxRule`, 1.0 ones a `taxType`. -#}
{% macro sevdesk_currency_and_tax() -%}
        upper(coalesce({{ json_raw_text('s.raw', 'currency') }}, 'EUR')) AS currency_code,
        {{ json_raw_text('s.raw', 'taxRule.id') }} AS tax_rule_id,
        {{ json_raw_text('s.raw', 'taxType') }} AS source_tax_type,
        coalesce({{ json_raw_text('s.raw', 'showNet') }}, '1') = '1' AS is_net_priced
{%- endmacro %}
