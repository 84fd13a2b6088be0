-- Dagster's instance lives in its own database beside the warehouse (deploy/dagster*.yaml).
CREATE DATABASE dagster OWNER kontor;
