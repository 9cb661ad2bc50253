-- datalab registry, format 1. Frozen: later formats change it with a migration in schema.rs.
-- Column names follow HSDS 3.0 where HSDS has the field (see README.md for the mapping).

CREATE TABLE taxonomies (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    uri TEXT,
    version TEXT
);

CREATE TABLE taxonomy_terms (
    id TEXT PRIMARY KEY NOT NULL,
    code TEXT,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    parent_id TEXT,
    taxonomy TEXT,
    language TEXT,
    taxonomy_id TEXT,
    term_uri TEXT
);

CREATE TABLE organizations (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    kind TEXT CHECK (kind IN ('public_body', 'third_sector', 'for_profit')),
    legal_form TEXT,
    tax_id TEXT,
    alternate_name TEXT,
    description TEXT,
    email TEXT,
    website TEXT,
    year_incorporated INTEGER,
    parent_organization_id TEXT REFERENCES organizations (id),
    municipality TEXT,
    status TEXT NOT NULL DEFAULT 'active'
        CHECK (status IN ('active', 'inactive', 'defunct', 'temporarily closed')),
    verified_at TEXT
);
CREATE INDEX organizations_tax_id ON organizations (tax_id);

CREATE TABLE organization_identifiers (
    id TEXT PRIMARY KEY NOT NULL,
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    identifier_scheme TEXT,
    identifier_type TEXT NOT NULL,
    identifier TEXT NOT NULL
);

CREATE TABLE services (
    id TEXT PRIMARY KEY NOT NULL,
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    name TEXT NOT NULL,
    alternate_name TEXT,
    description TEXT,
    url TEXT,
    email TEXT,
    status TEXT NOT NULL DEFAULT 'active'
        CHECK (status IN ('active', 'inactive', 'defunct', 'temporarily closed')),
    interpretation_services TEXT,
    application_process TEXT,
    fees_description TEXT,
    accreditations TEXT,
    eligibility_description TEXT,
    minimum_age INTEGER CHECK (minimum_age >= 0),
    maximum_age INTEGER CHECK (maximum_age >= 0),
    assured_date TEXT,
    assurer_email TEXT,
    alert TEXT,
    last_modified TEXT,
    risks TEXT NOT NULL,
    target_groups TEXT,
    free INTEGER CHECK (free IN (0, 1))
);
CREATE INDEX services_organization ON services (organization_id);

CREATE TABLE locations (
    id TEXT PRIMARY KEY NOT NULL,
    location_type TEXT NOT NULL DEFAULT 'physical'
        CHECK (location_type IN ('physical', 'postal', 'virtual')),
    url TEXT,
    organization_id TEXT REFERENCES organizations (id),
    name TEXT,
    alternate_name TEXT,
    description TEXT,
    transportation TEXT,
    latitude REAL,
    longitude REAL,
    external_identifier TEXT,
    external_identifier_type TEXT,
    municipality TEXT,
    zone TEXT
);

CREATE TABLE addresses (
    id TEXT PRIMARY KEY NOT NULL,
    location_id TEXT NOT NULL REFERENCES locations (id),
    attention TEXT,
    address_1 TEXT NOT NULL,
    address_2 TEXT,
    city TEXT NOT NULL,
    region TEXT,
    state_province TEXT NOT NULL,
    postal_code TEXT NOT NULL,
    country TEXT NOT NULL,
    address_type TEXT NOT NULL DEFAULT 'physical'
        CHECK (address_type IN ('physical', 'postal', 'virtual'))
);

CREATE TABLE service_at_locations (
    id TEXT PRIMARY KEY NOT NULL,
    service_id TEXT NOT NULL REFERENCES services (id),
    location_id TEXT NOT NULL REFERENCES locations (id),
    description TEXT
);

CREATE TABLE schedules (
    id TEXT PRIMARY KEY NOT NULL,
    service_id TEXT REFERENCES services (id),
    location_id TEXT REFERENCES locations (id),
    service_at_location_id TEXT REFERENCES service_at_locations (id),
    valid_from TEXT,
    valid_to TEXT,
    dtstart TEXT,
    until TEXT,
    wkst TEXT CHECK (wkst IN ('MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU')),
    freq TEXT CHECK (freq IN ('WEEKLY', 'MONTHLY')),
    interval INTEGER CHECK (interval >= 0),
    byday TEXT,
    bymonthday TEXT,
    description TEXT,
    opens_at TEXT,
    closes_at TEXT,
    attending_type TEXT,
    notes TEXT
);

CREATE TABLE cost_options (
    id TEXT PRIMARY KEY NOT NULL,
    service_id TEXT NOT NULL REFERENCES services (id),
    valid_from TEXT,
    valid_to TEXT,
    option TEXT,
    currency TEXT,
    amount REAL,
    amount_description TEXT
);

CREATE TABLE funding (
    id TEXT PRIMARY KEY NOT NULL,
    organization_id TEXT REFERENCES organizations (id),
    service_id TEXT REFERENCES services (id),
    source TEXT,
    amount REAL,
    year INTEGER
);

CREATE TABLE service_areas (
    id TEXT PRIMARY KEY NOT NULL,
    service_id TEXT NOT NULL REFERENCES services (id),
    name TEXT,
    description TEXT,
    extent TEXT,
    extent_type TEXT CHECK (extent_type IN ('geojson', 'topojson', 'kml', 'text')),
    uri TEXT
);

CREATE TABLE contacts (
    id TEXT PRIMARY KEY NOT NULL,
    organization_id TEXT REFERENCES organizations (id),
    service_id TEXT REFERENCES services (id),
    service_at_location_id TEXT REFERENCES service_at_locations (id),
    location_id TEXT REFERENCES locations (id),
    name TEXT,
    title TEXT,
    department TEXT,
    email TEXT
);

CREATE TABLE phones (
    id TEXT PRIMARY KEY NOT NULL,
    location_id TEXT REFERENCES locations (id),
    service_id TEXT REFERENCES services (id),
    organization_id TEXT REFERENCES organizations (id),
    contact_id TEXT REFERENCES contacts (id),
    service_at_location_id TEXT REFERENCES service_at_locations (id),
    number TEXT NOT NULL,
    extension INTEGER,
    type TEXT CHECK (type IN ('text', 'voice', 'fax', 'cell', 'video', 'pager', 'textphone')),
    description TEXT
);

CREATE TABLE attributes (
    id TEXT PRIMARY KEY NOT NULL,
    link_id TEXT NOT NULL,
    taxonomy_term_id TEXT NOT NULL REFERENCES taxonomy_terms (id),
    link_type TEXT,
    link_entity TEXT NOT NULL
        CHECK (link_entity IN ('service', 'organization', 'location', 'service_at_location')),
    value TEXT
);
CREATE INDEX attributes_link ON attributes (link_entity, link_id);

-- Extensions (not in HSDS 3.0).

CREATE TABLE operators (
    id TEXT PRIMARY KEY NOT NULL,
    organization_id TEXT REFERENCES organizations (id),
    service_id TEXT REFERENCES services (id),
    profile TEXT NOT NULL CHECK (profile IN ('social_worker', 'educator', 'oss_care_worker',
        'psychologist', 'nurse', 'administrative', 'volunteer', 'other')),
    count INTEGER NOT NULL CHECK (count >= 0),
    fte REAL,
    as_of TEXT,
    note TEXT
);

CREATE TABLE capacities (
    id TEXT PRIMARY KEY NOT NULL,
    service_at_location_id TEXT NOT NULL REFERENCES service_at_locations (id),
    places INTEGER CHECK (places >= 0),
    current_users INTEGER CHECK (current_users >= 0),
    waiting_list INTEGER CHECK (waiting_list >= 0),
    as_of TEXT NOT NULL
);

CREATE TABLE relations (
    id TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('procurement', 'accreditation', 'co_design_agreement',
        'grant', 'agreement')),
    commissioner_id TEXT NOT NULL REFERENCES organizations (id),
    provider_id TEXT NOT NULL REFERENCES organizations (id),
    service_id TEXT REFERENCES services (id),
    value_eur REAL,
    start_date TEXT,
    end_date TEXT,
    reference TEXT,
    description TEXT
);

-- History: one row per change of any row above (written by triggers, see schema.rs).

CREATE TABLE registry_history (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    table_name TEXT NOT NULL,
    id TEXT NOT NULL,
    version INTEGER NOT NULL,
    op TEXT NOT NULL CHECK (op IN ('insert', 'update', 'delete')),
    at TEXT NOT NULL,
    by TEXT NOT NULL,
    row_json TEXT
);
CREATE UNIQUE INDEX registry_history_object ON registry_history (table_name, id, version);
CREATE INDEX registry_history_at ON registry_history (at);

-- Who and when for the changes of the current transaction (set and cleared by Registry::edit).
CREATE TABLE registry_session (
    key TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);
