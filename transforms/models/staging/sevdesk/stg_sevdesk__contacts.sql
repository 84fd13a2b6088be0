WITH src AS (
    SELECT
        r.tenant_id, r.source_system, r.id AS remote_id, coalesce(r.is_deleted, FALSE) AS is_deleted,
        l.inserted_at AS loaded_at, r.raw
    FROM {{ source('raw_sevdesk', 'contacts') }} AS r
    LEFT JOIN {{ source('raw_sevdesk', '_dlt_loads') }} AS l ON l.load_id = r._dlt_load_id
),

ways AS (
    SELECT
        r.tenant_id,
        {{ json_raw_text('r.raw', 'contact.id') }} AS contact_remote_id,
        upper({{ json_raw_text('r.raw', 'type') }}) AS way_type,
        {{ json_raw_text('r.raw', 'value') }} AS way_value,
        coalesce({{ json_raw_text('r.raw', 'main') }}, '0') = '1' AS is_main,
        r.id AS way_id
    FROM {{ source('raw_sevdesk', 'communication_ways') }} AS r
    WHERE NOT coalesce(r.is_deleted, FALSE)
),

emails AS (
    SELECT tenant_id, contact_remote_id,
        array_agg(way_value ORDER BY is_main DESC, length(way_id), way_id) AS email_addresses
    FROM ways
    WHERE way_type = 'EMAIL'
    GROUP BY tenant_id, contact_remote_id
),

phones AS (
    SELECT tenant_id, contact_remote_id,
        array_agg(way_value ORDER BY is_main DESC, length(way_id), way_id) AS phone_numbers
    FROM ways
    WHERE way_type IN ('PHONE', 'MOBILE')
    GROUP BY tenant_id, contact_remote_id
),

addresses AS (
    SELECT
        r.tenant_id,
        {{ json_raw_text('r.raw', 'contact.id') }} AS contact_remote_id,
        {{ json_raw_text('r.raw', 'street') }} AS street,
        {{ json_raw_text('r.raw', 'zip') }} AS postal_code,
        {{ json_raw_text('r.raw', 'city') }} AS city,
        upper({{ json_raw_text('c.raw', 'code') }}) AS country_code,
        row_number() OVER (
            PARTITION BY r.tenant_id, {{ json_raw_text('r.raw', 'contact.id') }} ORDER BY length(r.id), r.id
        ) AS address_number,
        count(*) OVER (PARTITION BY r.tenant_id, {{ json_raw_text('r.raw', 'contact.id') }}) AS address_count
    FROM {{ source('raw_sevdesk', 'contact_addresses') }} AS r
    LEFT JOIN {{ source('raw_sevdesk', 'static_countries') }} AS c
        ON c.tenant_id = r.tenant_id AND c.id = {{ json_raw_text('r.raw', 'country.id') }}
    WHERE NOT coalesce(r.is_deleted, FALSE)
),

typed AS (
    SELECT
        s.tenant_id,
        s.source_system,
        s.remote_id,
        {{ try_timestamptz(json_raw_text('s.raw', 'create')) }} AS remote_created_at,
        {{ try_timestamptz(json_raw_text('s.raw', 'update')) }} AS remote_updated_at,
        s.loaded_at,
        s.is_deleted,
        CASE WHEN nullif(trim({{ json_raw_text('s.raw', 'name') }}), '') IS NOT NULL THEN 'company' ELSE 'person' END
            AS contact_type,
        nullif(trim(coalesce(
            nullif(trim({{ json_raw_text('s.raw', 'name') }}), ''),
            concat_ws(' ', {{ json_raw_text('s.raw', 'surename') }}, {{ json_raw_text('s.raw', 'familyname') }})
        )), '') AS name,
        CASE {{ json_raw_text('s.raw', 'gender') }} WHEN 'm' THEN 'Herr' WHEN 'w' THEN 'Frau' END AS salutation,
        {{ json_raw_text('s.raw', 'surename') }} AS first_name,
        {{ json_raw_text('s.raw', 'familyname') }} AS last_name,
        {{ json_raw_text('s.raw', 'parent.id') }} AS parent_remote_id,
        {{ json_raw_text('s.raw', 'category.id') }} AS category_id,
        {{ json_raw_text('s.raw', 'category.id') }} = '3' AS is_customer,
        {{ json_raw_text('s.raw', 'category.id') }} = '2' AS is_supplier,
        {{ json_raw_text('s.raw', 'customerNumber') }} AS source_customer_number,
        CAST({{ try_decimal(json_raw_text('s.raw', 'customerNumber'), '18, 0') }} AS BIGINT) AS customer_number,
        CAST(NULL AS BIGINT) AS supplier_number,
        {{ json_raw_text('s.raw', 'vatNumber') }} AS vat_id,
        {{ json_raw_text('s.raw', 'taxNumber') }} AS tax_number,
        coalesce({{ json_raw_text('s.raw', 'exemptVat') }}, '0') = '1' AS allows_tax_free_invoices,
        e.email_addresses[1] AS email,
        coalesce(e.email_addresses, {{ empty_text_list() }}) AS email_addresses,
        p.phone_numbers[1] AS phone,
        coalesce(p.phone_numbers, {{ empty_text_list() }}) AS phone_numbers,
        CAST(NULL AS VARCHAR) AS contact_person_name,
        a.street AS billing_street,
        a.postal_code AS billing_postal_code,
        a.city AS billing_city,
        a.country_code AS billing_country_code,
        coalesce(a.address_count, 0) AS address_count,
        {{ json_raw_text('s.raw', 'description') }} AS note,
        {{ json_raw_text('s.raw', 'status') }} AS source_status
    FROM src AS s
    LEFT JOIN emails AS e ON e.tenant_id = s.tenant_id AND e.contact_remote_id = s.remote_id
    LEFT JOIN phones AS p ON p.tenant_id = s.tenant_id AND p.contact_remote_id = s.remote_id
    LEFT JOIN addresses AS a
        ON a.tenant_id = s.tenant_id AND a.contact_remote_id = s.remote_id AND a.address_number = 1
)

SELECT
    *,
    {% call issue_list() %}
        {{ issue("name IS NULL", "name|surename+familyname", "missing required field", "NULL", "TRUE") }},
        {{ issue(
            "NOT is_customer AND NOT is_supplier",
            "category", "unknown enum value", "category_id", "FALSE"
        ) }},
        {{ issue(
            "source_customer_number IS NOT NULL AND customer_number IS NULL",
            "customerNumber", "malformed number", "source_customer_number", "FALSE"
        ) }},
        {{ issue(
            "address_count > 1",
            "ContactAddress", "more addresses than the CDM models: first kept", "address_count", "FALSE"
        ) }},
        {{ issue(
            "coalesce(source_status, '') NOT IN ('100', '500', '1000')",
            "status", "unknown enum value", "source_status", "FALSE"
        ) }}
    {% endcall %} AS _issues
FROM typed
