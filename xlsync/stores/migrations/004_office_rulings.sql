-- Rulings across offices: every sync publishes the office's applied rulings (裁决) as they
-- resolved there: the kind, the date, the rep and the end of a 指派, and the 编号 of the
-- rows each side names. Another office's check fetches the rulings naming one of the rows
-- it decides (its own, or the candidates it fetched) and applies them to those customers.
CREATE TABLE office_rulings (
    office_id integer NOT NULL REFERENCES offices (office_id),
    file text NOT NULL,
    sheet text NOT NULL,
    row integer NOT NULL,
    kind text NOT NULL,
    date date NOT NULL,
    rep text NOT NULL,
    until date,
    ids text[] NOT NULL,
    other_ids text[] NOT NULL,
    published_at timestamp NOT NULL,
    PRIMARY KEY (office_id, file, sheet, row)
);
CREATE INDEX office_rulings_ids ON office_rulings USING gin (ids);
CREATE INDEX office_rulings_other_ids ON office_rulings USING gin (other_ids);
