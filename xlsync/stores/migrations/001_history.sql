-- The history of every office's registers: the same tables as the embedded SQLite store,
-- each row also naming its office. Ids (C000123) come from one counter for all offices.
CREATE TABLE offices (
    office_id serial PRIMARY KEY,
    name text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE counters (
    name text PRIMARY KEY,
    value bigint NOT NULL
);
INSERT INTO counters (name, value) VALUES ('id', 0);

CREATE TABLE reservations (
    reservation_id bigserial PRIMARY KEY,
    office_id integer NOT NULL REFERENCES offices (office_id),
    file text NOT NULL,
    first bigint NOT NULL,
    last bigint NOT NULL,
    reserved_at text NOT NULL
);

CREATE TABLE syncs (
    sync_id bigserial PRIMARY KEY,
    office_id integer NOT NULL REFERENCES offices (office_id),
    file text NOT NULL,
    at timestamp NOT NULL,
    as_of date NOT NULL,
    plan text NOT NULL
);
CREATE INDEX syncs_office_file ON syncs (office_id, file, sync_id);
CREATE INDEX syncs_at ON syncs (office_id, at);

-- One row per id per file of an office: the latest known location and values (JSON).
CREATE TABLE snapshots (
    office_id integer NOT NULL REFERENCES offices (office_id),
    file text NOT NULL,
    id text NOT NULL,
    sheet text NOT NULL,
    row integer NOT NULL,
    vals text NOT NULL,
    state text NOT NULL,
    sync_id bigint NOT NULL REFERENCES syncs (sync_id),
    PRIMARY KEY (office_id, file, id)
);
CREATE INDEX snapshots_id ON snapshots (office_id, id, sync_id);
CREATE INDEX snapshots_state ON snapshots (office_id, file, state);

CREATE TABLE events (
    event_id bigserial PRIMARY KEY,
    sync_id bigint NOT NULL REFERENCES syncs (sync_id),
    office_id integer NOT NULL REFERENCES offices (office_id),
    file text NOT NULL,
    id text NOT NULL,
    kind text NOT NULL,
    sheet text NOT NULL,
    row integer NOT NULL,
    detail text NOT NULL
);
CREATE INDEX events_file_id ON events (office_id, file, id, event_id);
CREATE INDEX events_id ON events (office_id, id, event_id);
