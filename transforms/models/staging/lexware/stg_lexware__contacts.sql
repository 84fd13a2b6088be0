WITH src AS (
    SELECT
        r.tenant_id, r.source_system, r.id AS remote_id, r.version AS raw_version, r.is_deleted, l.inserted_at AS loaded_at,
        from_json(r.raw, '{
            "version": "VARCHAR",
            "roles": {"customer": {"number": "VARCHAR"}, "vendor": {"number": "VARCHAR"}},
            "company": {"name": "VARCHAR", "taxNumber": "VARCHAR", "vatRegistrationId": "VARCHAR",
                        "allowTaxFreeInvoices": "BOOLEAN",
                        "contactPersons": [{"salutation": "VARCHAR", "firstName": "VARCHAR",
                                            "lastName": "VARCHAR", "primary": "BOOLEAN",
                                            "emailAddress": "VARCHAR", "phoneNumber": "VARCHAR"}]},
            "person": {"salutation": "VARCHAR", "firstName": "VARCHAR", "lastName": "VARCHAR"},
            "addresses": {
                "billing": [{"supplement": "VARCHAR", "street": "VARCHAR", "zip": "VARCHAR",
                             "city": "VARCHAR", "countryCode": "VARCHAR"}],
                "shipping": [{"supplement": "VARCHAR", "street": "VARCHAR", "zip": "VARCHAR",
                              "city": "VARCHAR", "countryCode": "VARCHAR"}]},
            "emailAddresses": {"business": ["VARCHAR"], "office": ["VARCHAR"], "private": ["VARCHAR"],
                               "other": ["VARCHAR"]},
            "phoneNumbers": {"business": ["VARCHAR"], "office": ["VARCHAR"], "mobile": ["VARCHAR"],
                             "private": ["VARCHAR"], "fax": ["VARCHAR"], "other": ["VARCHAR"]},
            "note": "VARCHAR",
            "archived": "BOOLEAN"
        }') AS j
    FROM {{ source('raw_lexware', 'contacts') }} AS r
    LEFT JOIN {{ source('raw_lexware', '_dlt_loads') }} AS l ON l.load_id = r._dlt_load_id
),

typed AS (
    SELECT
        tenant_id,
        source_system,
        remote_id,
        coalesce(TRY_CAST(j.version AS BIGINT), raw_version) AS remote_version,
        coalesce(is_deleted, FALSE) AS is_deleted,
        loaded_at,
        CASE WHEN j.company IS NOT NULL THEN 'company' WHEN j.person IS NOT NULL THEN 'person' END
            AS contact_type,
        nullif(trim(coalesce(
            j.company.name, concat_ws(' ', j.person.firstName, j.person.lastName)
        )), '') AS name,
        j.person.salutation AS salutation,
        j.person.firstName AS first_name,
        j.person.lastName AS last_name,
        j.roles.customer IS NOT NULL AS is_customer,
        j.roles.vendor IS NOT NULL AS is_supplier,
        TRY_CAST(j.roles.customer.number AS BIGINT) AS customer_number,
        TRY_CAST(j.roles.vendor.number AS BIGINT) AS supplier_number,
        j.company.vatRegistrationId AS vat_id,
        j.company.taxNumber AS tax_number,
        coalesce(j.company.allowTaxFreeInvoices, FALSE) AS allows_tax_free_invoices,
        list_concat(
            j.emailAddresses.business, j.emailAddresses.office,
            j.emailAddresses.private, j.emailAddresses.other
        ) AS email_addresses,
        list_concat(
            j.phoneNumbers.business, j.phoneNumbers.office, j.phoneNumbers.mobile,
            j.phoneNumbers.private, j.phoneNumbers.fax, j.phoneNumbers.other
        ) AS phone_numbers,
        coalesce(
            list_filter(j.company.contactPersons, lambda p: p.primary)[1],  -- noqa: CP01
            j.company.contactPersons[1]
        ) AS primary_person,
        j.addresses.billing[1] AS billing,
        j.addresses.shipping[1] AS shipping,
        j.addresses.billing AS _billing_all,
        j.addresses.shipping AS _shipping_all,
        j.note AS note,
        coalesce(j.archived, FALSE) AS is_archived,
        j AS _j
    FROM src
)

SELECT
    * EXCLUDE (
        _j, primary_person, billing, shipping, _billing_all, _shipping_all, email_addresses, phone_numbers
    ),
    coalesce(email_addresses[1], primary_person.emailAddress) AS email,
    coalesce(email_addresses, []) AS email_addresses,
    coalesce(phone_numbers[1], primary_person.phoneNumber) AS phone,
    coalesce(phone_numbers, []) AS phone_numbers,
    nullif(concat_ws(' ', primary_person.firstName, primary_person.lastName), '') AS contact_person_name,
    billing.supplement AS billing_supplement,
    billing.street AS billing_street,
    billing.zip AS billing_postal_code,
    billing.city AS billing_city,
    upper(billing.countryCode) AS billing_country_code,
    shipping.supplement AS shipping_supplement,
    shipping.street AS shipping_street,
    shipping.zip AS shipping_postal_code,
    shipping.city AS shipping_city,
    upper(shipping.countryCode) AS shipping_country_code,
    {% call issue_list() %}
        {{ issue(
            "name IS NULL",
            "company.name|person.lastName", "missing required field", "NULL", "TRUE"
        ) }},
        {{ issue(
            "NOT is_customer AND NOT is_supplier",
            "roles", "missing required field", "NULL", "FALSE"
        ) }},
        {{ issue(
            "len(_billing_all) > 1",
            "addresses.billing", "more addresses than the CDM models: first kept", "to_json(_billing_all)::VARCHAR", "FALSE"
        ) }},
        {{ issue(
            "len(_shipping_all) > 1",
            "addresses.shipping", "more addresses than the CDM models: first kept", "to_json(_shipping_all)::VARCHAR", "FALSE"
        ) }}
    {% endcall %} AS _issues
FROM typed
