{#- The lines of one CDM document table (invoices, credit_notes or bills): every source's staged document
    lines joined to their document, one row per line in document order. `documents`: the CDM model of the
    documents; `document_id`: the name of its id column in the lines (invoice_id, credit_note_id, bill_id).
    Lexware's remote ids are unique per tenant across document types; sevDesk's only per object type, so
    its lines join on raw_table too. -#}
{% macro cdm_document_lines(documents, document_id) %}
SELECT
    {{ kontor._cdm_line_columns(document_id, 'pc.name') }}
FROM {{ ref('stg_lexware__document_lines') }} AS l
JOIN {{ ref(documents) }} AS d ON d.tenant_id = l.tenant_id AND d.remote_id = l.remote_id
LEFT JOIN {{ ref('stg_lexware__posting_categories') }} AS pc
    ON pc.tenant_id = l.tenant_id AND pc.remote_id = l.posting_category_remote_id
UNION ALL
SELECT
    {{ kontor._cdm_line_columns(document_id, 'l.posting_category_name') }}
FROM {{ ref('stg_sevdesk__document_lines') }} AS l
JOIN {{ ref(documents) }} AS d
    ON d.tenant_id = l.tenant_id AND d.raw_table = l.raw_table AND d.remote_id = l.remote_id
{% endmacro %}

{#- The columns of a CDM line (`l`: the staged line, `d`: its document). -#}
{% macro _cdm_line_columns(document_id, posting_category_name) -%}
    d.id || ':' || l.line_number AS id,
    d.tenant_id, d.source_system, l.remote_id || ':' || l.line_number AS remote_id, d.remote_version,
    d.remote_created_at, d.remote_updated_at, d.loaded_at, d.is_deleted, d.raw_table,
    d.id AS {{ document_id }},
    l.line_number, l.line_type, l.name, l.description, l.article_id AS item_id, l.quantity, l.unit_name, l.unit_price_net,
    l.unit_price_gross, l.discount_percent, l.tax_rate_percent, d.currency_code,
    l.line_amount, l.net_amount, l.tax_amount, l.gross_amount, l.posting_category_id,
    {{ posting_category_name }} AS posting_category_name, d.changeable_at_source
{%- endmacro %}
