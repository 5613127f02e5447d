-- Decisions made by analyze and run-agent. Times are Unix milliseconds, UTC.
CREATE TABLE decisions (
    id          TEXT PRIMARY KEY,
    symbol      TEXT NOT NULL,
    asset_class TEXT NOT NULL,
    action      TEXT NOT NULL CHECK (action IN ('BUY', 'SELL', 'HOLD')),
    confidence  REAL NOT NULL,
    score       REAL NOT NULL,
    quantity    REAL NOT NULL,
    price       REAL NOT NULL,
    atr         REAL NOT NULL,
    stop_loss   REAL NOT NULL DEFAULT 0,
    take_profit REAL NOT NULL DEFAULT 0,
    reasons     TEXT NOT NULL DEFAULT '[]', -- JSON array of strings
    votes       TEXT NOT NULL DEFAULT '[]', -- JSON array of strategy votes
    bar_time    INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    executed    INTEGER NOT NULL DEFAULT 0 -- 0 open, 1 being executed or executed
) STRICT;
CREATE INDEX decisions_created ON decisions (created_at);
CREATE INDEX decisions_symbol_created ON decisions (symbol, created_at);

-- Orders placed on a platform; at most one per decision.
CREATE TABLE orders (
    id              TEXT PRIMARY KEY,
    decision_id     TEXT UNIQUE REFERENCES decisions (id),
    platform        TEXT NOT NULL,
    symbol          TEXT NOT NULL,
    side            TEXT NOT NULL CHECK (side IN ('BUY', 'SELL')),
    type            TEXT NOT NULL,
    status          TEXT NOT NULL,
    quantity        REAL NOT NULL,
    filled_quantity REAL NOT NULL,
    avg_price       REAL NOT NULL,
    fees            REAL NOT NULL,
    reason          TEXT NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL
) STRICT;
CREATE INDEX orders_created ON orders (created_at);

CREATE TABLE fills (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id   TEXT NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    symbol     TEXT NOT NULL,
    side       TEXT NOT NULL CHECK (side IN ('BUY', 'SELL')),
    quantity   REAL NOT NULL CHECK (quantity > 0),
    price      REAL NOT NULL CHECK (price > 0),
    fee        REAL NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX fills_order ON fills (order_id);

-- Open positions per platform. Quantity is signed: negative is short.
CREATE TABLE positions (
    platform    TEXT NOT NULL,
    symbol      TEXT NOT NULL,
    asset_class TEXT NOT NULL,
    quantity    REAL NOT NULL,
    avg_price   REAL NOT NULL,
    stop_loss   REAL NOT NULL DEFAULT 0,
    take_profit REAL NOT NULL DEFAULT 0,
    decision_id TEXT REFERENCES decisions (id),
    opened_at   INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (platform, symbol)
) STRICT;

-- Cash of the paper platform, per currency.
CREATE TABLE paper_balances (
    currency   TEXT PRIMARY KEY,
    amount     REAL NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;

-- Portfolio memory: closed trades with the votes that opened them, which
-- learning-report summarises and the weight update learns from.
CREATE TABLE memory (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    platform          TEXT NOT NULL,
    symbol            TEXT NOT NULL,
    direction         TEXT NOT NULL CHECK (direction IN ('LONG', 'SHORT')),
    quantity          REAL NOT NULL,
    entry_price       REAL NOT NULL,
    exit_price        REAL NOT NULL,
    fees              REAL NOT NULL,
    pnl               REAL NOT NULL,
    return_pct        REAL NOT NULL,
    entry_decision_id TEXT,
    exit_decision_id  TEXT,
    votes             TEXT NOT NULL DEFAULT '[]',
    opened_at         INTEGER NOT NULL,
    closed_at         INTEGER NOT NULL
) STRICT;
CREATE INDEX memory_closed ON memory (closed_at);

-- Learned ensemble weights.
CREATE TABLE strategy_weights (
    strategy   TEXT PRIMARY KEY,
    weight     REAL NOT NULL CHECK (weight >= 0),
    updated_at INTEGER NOT NULL
) STRICT;
