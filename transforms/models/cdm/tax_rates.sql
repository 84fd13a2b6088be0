-- Tax rates in use: Lexware has no tax-rate resource, so this lists every (tax type, rate) combination
-- used on a tenant's document lines, with how often and when it was last used.
-- remote_id is "<tax_type>:<rate>" (e.g. "net:19.00").
WITH used AS (
    SELECT d.tenant_id, d.source_system, d.tax_type, l.tax_rate_percent, d.issue_date
    FROM {{ ref('stg_lexware__document_lines') }} AS l
    JOIN {{ ref('stg_lexware__documents') }} AS d ON d.tenant_id = l.tenant_id AND d.remote_id = l.remote_id
    WHERE l.tax_rate_percent IS NOT NULL AND NOT d.is_rejected AND NOT d.is_deleted
)

SELECT
    source_system || ':' || tenant_id || ':' || tax_type || ':' || tax_rate_percent AS id,
    tenant_id,
    source_system,
    tax_type || ':' || tax_rate_percent AS remote_id,
    NULL::BIGINT AS remote_version,
    NULL::TIMESTAMPTZ AS remote_created_at,
    NULL::TIMESTAMPTZ AS remote_updated_at,
    FALSE AS is_deleted,
    NULL::VARCHAR AS raw_table,
    tax_type,
    tax_rate_percent AS rate_percent,
    CASE
        WHEN tax_type IN ('net', 'gross') AND tax_rate_percent > 0 THEN 'VAT ' || tax_rate_percent::DECIMAL(5, 1) || '%'
        WHEN tax_type IN ('net', 'gross') THEN 'VAT-exempt (0%)'
        WHEN tax_type = 'vatfree' THEN 'Tax-free (small business / §19 UStG)'
        WHEN tax_type = 'intraCommunitySupply' THEN 'Intra-community supply (0%)'
        WHEN tax_type IN ('constructionService13b', 'externalService13b') THEN 'Reverse charge §13b (0%)'
        WHEN tax_type IN ('thirdPartyCountryService', 'thirdPartyCountryDelivery') THEN 'Third-country export (0%)'
        WHEN tax_type = 'photovoltaicEquipment' THEN 'Photovoltaic equipment (0%)'
        ELSE 'Unknown tax type ' || coalesce(tax_type, '?')
    END AS name,
    tax_rate_percent > 0 AS is_vat_charged,
    count(*) AS line_count,
    max(issue_date) AS last_used_on
FROM used
GROUP BY tenant_id, source_system, tax_type, tax_rate_percent
