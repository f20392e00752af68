-- Cross-office matching: every office publishes its rows (the fields the rules read, and
-- the protection as the office computed it) and their block keys (name keys and phones,
-- see xlsync/stores/crossoffice.py). Another office asks only for the rows that share a
-- block key with its own rows.
CREATE TABLE office_rows (
    office_id integer NOT NULL REFERENCES offices (office_id),
    file text NOT NULL,
    sheet text NOT NULL,
    row integer NOT NULL,
    kind text NOT NULL,
    id text NOT NULL,
    customer text NOT NULL,
    contact text NOT NULL,
    phone_text text NOT NULL,
    phones text[] NOT NULL,
    region text NOT NULL,
    rep text NOT NULL,
    department text NOT NULL,
    contacted date,
    visited date,
    sampled date,
    last_follow_up date,
    status text,
    won date,
    protected boolean NOT NULL,
    protected_until date,
    published_at timestamp NOT NULL,
    PRIMARY KEY (office_id, file, sheet, row)
);

CREATE TABLE office_keys (
    office_id integer NOT NULL,
    file text NOT NULL,
    sheet text NOT NULL,
    row integer NOT NULL,
    key text NOT NULL,
    FOREIGN KEY (office_id, file, sheet, row) REFERENCES office_rows ON DELETE CASCADE
);
CREATE INDEX office_keys_key ON office_keys (key, office_id);
CREATE INDEX office_keys_row ON office_keys (office_id, file, sheet, row);
