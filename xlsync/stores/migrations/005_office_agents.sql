-- Agent listings (代理商) across offices: every sync publishes the office's listings with
-- their block keys (each phone, the core name); another office's check fetches the ones
-- sharing a key with the rows it decides, and a rep's claim on a listed customer gets the
-- verdict `agent` in every office.
CREATE TABLE office_agents (
    office_id integer NOT NULL REFERENCES offices (office_id),
    file text NOT NULL,
    sheet text NOT NULL,
    row integer NOT NULL,
    name text NOT NULL,
    phones text[] NOT NULL,
    region text NOT NULL,
    agent text NOT NULL,
    until date,
    keys text[] NOT NULL,
    published_at timestamp NOT NULL,
    PRIMARY KEY (office_id, file, sheet, row)
);
CREATE INDEX office_agents_keys ON office_agents USING gin (keys);
