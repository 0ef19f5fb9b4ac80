-- One PostgreSQL server, one database per component (the workers use the default database "kit").
CREATE DATABASE n8n;
CREATE DATABASE odoo;
