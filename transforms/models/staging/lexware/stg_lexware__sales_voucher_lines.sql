WITH lines AS (
    SELECT
        d.tenant_id,
        d.source_system,
        d.remote_id,
        d.raw_table,
        d.document_type,
        d.tax_type,
        d.currency_code,
        {{ unnest_with_position('d.line_items', 'li', 'line_number') }}
    FROM {{ ref('stg_lexware__sales_vouchers') }} AS d
),

typed AS (
    SELECT
        tenant_id,
        source_system,
        remote_id,
        raw_table,
        line_number,
        document_type,
        tax_type,
        currency_code,
        {{ json_text('li', 'type') }} AS line_type,
        {{ json_text('li', 'id') }} AS article_remote_id,
        {{ json_text('li', 'name') }} AS name,
        {{ json_text('li', 'description') }} AS description,
        {{ try_cast(json_text('li', 'quantity'), 'DECIMAL(18, 4)') }} AS quantity,
        {{ json_text('li', 'unitName') }} AS unit_name,
        {{ try_cast(json_text('li', 'unitPrice.netAmount'), 'DECIMAL(18, 4)') }} AS unit_price_net,
        {{ try_cast(json_text('li', 'unitPrice.grossAmount'), 'DECIMAL(18, 4)') }} AS unit_price_gross,
        {{ try_cast(json_text('li', 'unitPrice.taxRatePercentage'), 'DECIMAL(5, 2)') }} AS tax_rate_percent,
        CASE
            WHEN {{ json_text('li', 'discountPercentage') }} IS NULL THEN 0
            ELSE {{ try_cast(json_text('li', 'discountPercentage'), 'DECIMAL(5, 2)') }}
        END AS discount_percent,
        {{ try_cast(json_text('li', 'lineItemAmount'), 'DECIMAL(18, 2)') }} AS line_amount,
        li AS _li
    FROM lines
),

amounts AS (
    SELECT
        *,
        CASE
            WHEN tax_type = 'gross'
                THEN round(line_amount / (1 + coalesce(tax_rate_percent, 0) / 100), 2)
            ELSE line_amount
        END::DECIMAL(18, 2) AS net_amount
    FROM typed
)

SELECT
    tenant_id, source_system, remote_id, raw_table, line_number, document_type, tax_type, currency_code, line_type,
    article_remote_id, name, description, quantity, unit_name, unit_price_net, unit_price_gross, tax_rate_percent,
    discount_percent, line_amount, net_amount,
    CASE
        WHEN tax_type = 'gross' THEN line_amount - net_amount
        ELSE round(net_amount * coalesce(tax_rate_percent, 0) * 0.01, 2)
    END::DECIMAL(18, 2) AS tax_amount,
    CASE
        WHEN tax_type = 'gross' THEN line_amount
        ELSE net_amount + round(net_amount * coalesce(tax_rate_percent, 0) * 0.01, 2)
    END::DECIMAL(18, 2) AS gross_amount,
    {% call issue_list() %}
        {{ issue(
            json_text('_li', 'lineItemAmount') ~ " IS NULL AND line_type IS DISTINCT FROM 'text'",
            "lineItems[].lineItemAmount", "missing required field", "NULL", "TRUE"
        ) }},
        {{ issue(
            json_text('_li', 'lineItemAmount') ~ " IS NOT NULL AND line_amount IS NULL",
            "lineItems[].lineItemAmount", "malformed number", json_text('_li', 'lineItemAmount'), "line_type IS DISTINCT FROM 'text'"
        ) }},
        {{ issue(
            json_text('_li', 'unitPrice.taxRatePercentage') ~ " IS NULL AND line_type IS DISTINCT FROM 'text'",
            "lineItems[].unitPrice.taxRatePercentage", "missing required field", "NULL", "TRUE"
        ) }},
        {{ issue(
            json_text('_li', 'unitPrice.taxRatePercentage') ~ " IS NOT NULL AND tax_rate_percent IS NULL",
            "lineItems[].unitPrice.taxRatePercentage", "malformed number", json_text('_li', 'unitPrice.taxRatePercentage'), "line_type IS DISTINCT FROM 'text'"
        ) }},
        {{ issue(
            json_text('_li', 'quantity') ~ " IS NOT NULL AND quantity IS NULL",
            "lineItems[].quantity", "malformed number", json_text('_li', 'quantity'), "FALSE"
        ) }},
        {{ issue(
            json_text('_li', 'unitPrice.netAmount') ~ " IS NOT NULL AND unit_price_net IS NULL",
            "lineItems[].unitPrice.netAmount", "malformed number", json_text('_li', 'unitPrice.netAmount'), "FALSE"
        ) }},
        {{ issue(
            json_text('_li', 'unitPrice.grossAmount') ~ " IS NOT NULL AND unit_price_gross IS NULL",
            "lineItems[].unitPrice.grossAmount", "malformed number", json_text('_li', 'unitPrice.grossAmount'), "FALSE"
        ) }},
        {{ issue(
            json_text('_li', 'discountPercentage') ~ " IS NOT NULL AND discount_percent IS NULL",
            "lineItems[].discountPercentage", "malformed number", json_text('_li', 'discountPercentage'), "FALSE"
        ) }}
    {% endcall %} AS _issues
FROM amounts
