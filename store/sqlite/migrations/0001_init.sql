-- Joule controller schema, version 1. Times are integer Unix milliseconds
-- (UTC) so both databases compare and bucket them with plain integer maths.

-- Raw telemetry. The primary key makes a retried batch idempotent.
CREATE TABLE site_samples (
	t BIGINT NOT NULL PRIMARY KEY,
	mining_mw REAL, ai_mw REAL, grid_mw REAL, curtailed_mw REAL, cap_mw REAL,
	price REAL, hashprice REAL
) WITHOUT ROWID;

CREATE TABLE miner_samples (
	miner_id TEXT NOT NULL,
	t BIGINT NOT NULL,
	hashrate_ths REAL, power_w REAL, inlet_c REAL, chip_c REAL, fan_rpm REAL,
	state TEXT NOT NULL DEFAULT '',
	errors TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (miner_id, t)
) WITHOUT ROWID;
CREATE INDEX miner_samples_t ON miner_samples (t);

CREATE TABLE gpu_samples (
	gpu_id TEXT NOT NULL,
	t BIGINT NOT NULL,
	source TEXT NOT NULL DEFAULT '',
	util_pct REAL, power_w REAL, temp_c REAL, mem_used_mib REAL, mem_total_mib REAL,
	PRIMARY KEY (gpu_id, t)
) WITHOUT ROWID;
CREATE INDEX gpu_samples_t ON gpu_samples (t);

-- Rollups: t is the bucket start, n the raw samples behind it.
CREATE TABLE site_1m (
	t BIGINT NOT NULL PRIMARY KEY, n BIGINT NOT NULL,
	mining_mw_avg REAL, ai_mw_avg REAL, grid_mw_avg REAL, curtailed_mw_avg REAL, cap_mw_avg REAL,
	price_avg REAL, hashprice_avg REAL
) WITHOUT ROWID;
CREATE TABLE site_1h (
	t BIGINT NOT NULL PRIMARY KEY, n BIGINT NOT NULL,
	mining_mw_avg REAL, ai_mw_avg REAL, grid_mw_avg REAL, curtailed_mw_avg REAL, cap_mw_avg REAL,
	price_avg REAL, hashprice_avg REAL
) WITHOUT ROWID;

CREATE TABLE miner_1m (
	miner_id TEXT NOT NULL, t BIGINT NOT NULL, n BIGINT NOT NULL,
	hashrate_ths_avg REAL, power_w_avg REAL, fan_rpm_avg REAL, inlet_c_max REAL, chip_c_max REAL,
	error_n BIGINT NOT NULL DEFAULT 0,
	PRIMARY KEY (miner_id, t)
) WITHOUT ROWID;
CREATE INDEX miner_1m_t ON miner_1m (t);
CREATE TABLE miner_1h (
	miner_id TEXT NOT NULL, t BIGINT NOT NULL, n BIGINT NOT NULL,
	hashrate_ths_avg REAL, power_w_avg REAL, fan_rpm_avg REAL, inlet_c_max REAL, chip_c_max REAL,
	error_n BIGINT NOT NULL DEFAULT 0,
	PRIMARY KEY (miner_id, t)
) WITHOUT ROWID;
CREATE INDEX miner_1h_t ON miner_1h (t);

CREATE TABLE gpu_1m (
	gpu_id TEXT NOT NULL, t BIGINT NOT NULL, n BIGINT NOT NULL,
	util_pct_avg REAL, power_w_avg REAL, mem_used_mib_avg REAL, temp_c_max REAL,
	PRIMARY KEY (gpu_id, t)
) WITHOUT ROWID;
CREATE INDEX gpu_1m_t ON gpu_1m (t);
CREATE TABLE gpu_1h (
	gpu_id TEXT NOT NULL, t BIGINT NOT NULL, n BIGINT NOT NULL,
	util_pct_avg REAL, power_w_avg REAL, mem_used_mib_avg REAL, temp_c_max REAL,
	PRIMARY KEY (gpu_id, t)
) WITHOUT ROWID;
CREATE INDEX gpu_1h_t ON gpu_1h (t);

-- Controller state.
CREATE TABLE desired (
	target TEXT NOT NULL PRIMARY KEY,
	state TEXT NOT NULL,
	profile TEXT NOT NULL DEFAULT '',
	decision_id BIGINT NOT NULL DEFAULT 0,
	reason TEXT NOT NULL DEFAULT '',
	updated_at BIGINT NOT NULL
);

CREATE TABLE actions (
	id TEXT NOT NULL PRIMARY KEY,
	target TEXT NOT NULL,
	command TEXT NOT NULL,
	args TEXT NOT NULL DEFAULT '',
	state TEXT NOT NULL,
	attempts INTEGER NOT NULL DEFAULT 0,
	decision_id BIGINT NOT NULL DEFAULT 0,
	reason TEXT NOT NULL DEFAULT '',
	err TEXT NOT NULL DEFAULT '',
	created_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL,
	dispatched_at BIGINT NOT NULL DEFAULT 0,
	settled_at BIGINT NOT NULL DEFAULT 0
);
-- At most one unsettled command per target: the database, not only the
-- controller's memory, rules out a duplicate command in flight.
CREATE UNIQUE INDEX actions_one_open ON actions (target) WHERE state IN ('pending', 'dispatched', 'drifted');
CREATE INDEX actions_created ON actions (created_at);

CREATE TABLE audit (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	t BIGINT NOT NULL,
	actor TEXT NOT NULL,
	action TEXT NOT NULL,
	target TEXT NOT NULL DEFAULT '',
	reason TEXT NOT NULL DEFAULT '',
	price REAL,
	decision_id BIGINT NOT NULL DEFAULT 0,
	action_id TEXT NOT NULL DEFAULT '',
	detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_t ON audit (t);

CREATE TABLE decisions (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	t BIGINT NOT NULL,
	policy TEXT NOT NULL,
	reasons TEXT NOT NULL,
	mw TEXT NOT NULL,
	price REAL,
	hashprice REAL,
	failsafe TEXT NOT NULL DEFAULT ''
);
CREATE INDEX decisions_t ON decisions (t);

CREATE TABLE grid_events (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	source TEXT NOT NULL DEFAULT '',
	requester TEXT NOT NULL DEFAULT '',
	requested_mw REAL NOT NULL,
	baseline_mw REAL NOT NULL DEFAULT 0,
	deadline BIGINT NOT NULL,
	reason TEXT NOT NULL DEFAULT '',
	created_at BIGINT NOT NULL,
	state TEXT NOT NULL,
	achieved_mw REAL NOT NULL DEFAULT 0,
	achieved_at BIGINT NOT NULL DEFAULT 0,
	updated_at BIGINT NOT NULL DEFAULT 0,
	note TEXT NOT NULL DEFAULT ''
);
CREATE INDEX grid_events_created ON grid_events (created_at);
