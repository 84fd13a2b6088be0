{#- Every source() of the models: the raw table when it exists, else an empty relation of the same columns,
    so a warehouse that holds only some source systems (a Lexware-only one has no raw_sevdesk schema, a
    sevDesk-only one no raw_lexware) or a source table dlt has not created yet (no rows ever loaded)
    still builds: the missing system contributes no rows. Lineage is unchanged: builtins.source records
    the dependency either way (dbt's manifest and the Dagster assets see the source).
    Raw tables are dlt's (tenant_id, source_system, id, version, raw, is_deleted, _dlt_load_id);
    `_dlt_loads` is dlt's load log. -#}
{% macro source(source_name, table_name) -%}
    {%- set relation = builtins.source(source_name, table_name) -%}
    {%- if not execute -%}
        {{ return(relation) }}
    {%- endif -%}
    {%- set found = adapter.get_relation(
        database=relation.database, schema=relation.schema, identifier=relation.identifier) -%}
    {%- if found is not none -%}
        {{ return(relation) }}
    {%- endif -%}
    {{ return(empty_source(relation, table_name)) }}
{%- endmacro %}

{#- An empty, typed stand-in for a missing raw table (a comment names the table it stands for). -#}
{% macro empty_source(relation, table_name) -%}
    {%- if table_name == '_dlt_loads' -%}
        (SELECT CAST(NULL AS VARCHAR) AS load_id, CAST(NULL AS VARCHAR) AS schema_name,
            CAST(NULL AS BIGINT) AS status, CAST(NULL AS TIMESTAMPTZ) AS inserted_at,
            CAST(NULL AS VARCHAR) AS schema_version_hash WHERE 1 = 0) /* {{ relation }} is absent: no rows */
    {%- else -%}
        (SELECT CAST(NULL AS VARCHAR) AS tenant_id, CAST(NULL AS VARCHAR) AS source_system,
            CAST(NULL AS VARCHAR) AS id, CAST(NULL AS BIGINT) AS version, CAST(NULL AS {{ json_type() }}) AS raw,
            CAST(NULL AS BOOLEAN) AS is_deleted, CAST(NULL AS VARCHAR) AS _dlt_load_id
        WHERE 1 = 0) /* {{ relation }} is absent: no rows */
    {%- endif -%}
{%- endmacro %}
