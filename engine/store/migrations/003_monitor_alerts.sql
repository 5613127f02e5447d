-- Alerts of the stock monitor of `ffe serve` (engine/monitor). at is Unix
-- nanoseconds.
--
-- As with 002, a monitor_alerts table created by engine/monitor itself is
-- rebuilt with this definition, its alerts kept.
CREATE TABLE IF NOT EXISTS monitor_alerts (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    symbol    TEXT    NOT NULL,
    price     REAL    NOT NULL,
    reference REAL    NOT NULL,
    change    REAL    NOT NULL,
    direction TEXT    NOT NULL,
    provider  TEXT    NOT NULL DEFAULT '',
    at        INTEGER NOT NULL
);
CREATE TABLE monitor_alerts_new (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    symbol    TEXT    NOT NULL,
    price     REAL    NOT NULL,
    reference REAL    NOT NULL,
    change    REAL    NOT NULL,
    direction TEXT    NOT NULL,
    provider  TEXT    NOT NULL DEFAULT '',
    at        INTEGER NOT NULL
) STRICT;
INSERT INTO monitor_alerts_new (id, symbol, price, reference, change, direction, provider, at)
    SELECT id, symbol, price, reference, change, direction, provider, at FROM monitor_alerts ORDER BY id;
DROP TABLE monitor_alerts;
ALTER TABLE monitor_alerts_new RENAME TO monitor_alerts;
CREATE INDEX monitor_alerts_symbol ON monitor_alerts (symbol, id);
