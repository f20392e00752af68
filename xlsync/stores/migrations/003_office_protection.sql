-- Each office's own 保护天数, published with its rows: another office's check protects
-- those rows by the rule of the office that has them (60 days in one, 90 in another).
-- NULL for rows published before this migration (the checking office's own days apply).
ALTER TABLE office_rows ADD COLUMN protection_days integer;
-- The office rule of that office that took a row's protection (its own 最多保护客户数 or
-- 冷却天数: "cap" / "cool_down"), so that another office sees that claim unprotected too.
ALTER TABLE office_rows ADD COLUMN office_limit text NOT NULL DEFAULT '';
