-- The schema of a store made by clic-geo before Alembic (commit d09e9da, schema version 2,
-- stamped in the meta table): sqlite_master's SQL, as that code created it.
-- tests/test_migrations.py builds such a store from this file and upgrades it.
CREATE TABLE meta (
	"key" VARCHAR(64) NOT NULL, 
	value TEXT NOT NULL, 
	PRIMARY KEY ("key")
);
CREATE TABLE imports (
	id INTEGER NOT NULL, 
	kind VARCHAR(16) NOT NULL, 
	file_name TEXT NOT NULL, 
	file_sha256 VARCHAR(64) NOT NULL, 
	source VARCHAR(64) NOT NULL, 
	imported_at DATETIME NOT NULL, 
	actor VARCHAR(128) NOT NULL, 
	read INTEGER NOT NULL, 
	accepted INTEGER NOT NULL, 
	updated INTEGER NOT NULL, 
	rejected INTEGER NOT NULL, 
	duplicates INTEGER NOT NULL, 
	blank_rows INTEGER NOT NULL, 
	rejects_path TEXT, 
	encoding VARCHAR(32), 
	notes TEXT, 
	PRIMARY KEY (id)
);
CREATE TABLE addresses (
	id VARCHAR(200) NOT NULL, 
	source_id TEXT, 
	address TEXT, 
	latitude FLOAT NOT NULL, 
	longitude FLOAT NOT NULL, 
	easting FLOAT NOT NULL, 
	northing FLOAT NOT NULL, 
	area_id VARCHAR(64), 
	safe_alert BOOLEAN NOT NULL, 
	protection_plan BOOLEAN NOT NULL, 
	next_visit_due DATE, 
	notes TEXT, 
	import_id INTEGER, 
	updated_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(import_id) REFERENCES imports (id)
);
CREATE INDEX ix_addresses_area ON addresses (area_id);
CREATE TABLE county_lines (
	id VARCHAR(200) NOT NULL, 
	source_id TEXT, 
	name TEXT NOT NULL, 
	area_id VARCHAR(64), 
	notes TEXT, 
	import_id INTEGER, 
	PRIMARY KEY (id), 
	FOREIGN KEY(import_id) REFERENCES imports (id)
);
CREATE TABLE incidents (
	id VARCHAR(200) NOT NULL, 
	source VARCHAR(64) NOT NULL, 
	source_id TEXT, 
	occurred_at DATETIME NOT NULL, 
	month VARCHAR(7) NOT NULL, 
	time_precision VARCHAR(8) NOT NULL, 
	category VARCHAR(32) NOT NULL, 
	original_type TEXT, 
	latitude FLOAT NOT NULL, 
	longitude FLOAT NOT NULL, 
	easting FLOAT NOT NULL, 
	northing FLOAT NOT NULL, 
	area_id VARCHAR(64), 
	location TEXT, 
	notes TEXT, 
	attributes TEXT, 
	import_id INTEGER, 
	PRIMARY KEY (id), 
	FOREIGN KEY(import_id) REFERENCES imports (id)
);
CREATE INDEX ix_incidents_month ON incidents (month);
CREATE INDEX ix_incidents_area_month ON incidents (area_id, month);
CREATE INDEX ix_incidents_category ON incidents (category);
CREATE TABLE rejects (
	id INTEGER NOT NULL, 
	import_id INTEGER NOT NULL, 
	"row" INTEGER, 
	outcome VARCHAR(16) NOT NULL, 
	reason TEXT NOT NULL, 
	raw TEXT NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(import_id) REFERENCES imports (id)
);
CREATE INDEX ix_rejects_import_id ON rejects (import_id);
CREATE TABLE visits (
	id VARCHAR(200) NOT NULL, 
	source_id TEXT, 
	visited_at DATETIME NOT NULL, 
	time_precision VARCHAR(8) NOT NULL, 
	address_id VARCHAR(200), 
	latitude FLOAT NOT NULL, 
	longitude FLOAT NOT NULL, 
	easting FLOAT NOT NULL, 
	northing FLOAT NOT NULL, 
	area_id VARCHAR(64), 
	officers TEXT, 
	outcome VARCHAR(32), 
	notes TEXT, 
	import_id INTEGER, 
	PRIMARY KEY (id), 
	FOREIGN KEY(import_id) REFERENCES imports (id)
);
CREATE INDEX ix_visits_area_time ON visits (area_id, visited_at);
CREATE INDEX ix_visits_address ON visits (address_id);
CREATE TABLE address_hardening (
	address_id VARCHAR(200) NOT NULL, 
	measure VARCHAR(32) NOT NULL, 
	fitted_on VARCHAR(10) NOT NULL, 
	import_id INTEGER, 
	PRIMARY KEY (address_id, measure, fitted_on), 
	FOREIGN KEY(address_id) REFERENCES addresses (id), 
	FOREIGN KEY(import_id) REFERENCES imports (id)
);
CREATE TABLE address_status (
	address_id VARCHAR(200) NOT NULL, 
	since DATE NOT NULL, 
	status VARCHAR(16) NOT NULL, 
	import_id INTEGER, 
	PRIMARY KEY (address_id, since, status), 
	FOREIGN KEY(address_id) REFERENCES addresses (id), 
	FOREIGN KEY(import_id) REFERENCES imports (id)
);
CREATE TABLE line_status (
	line_id VARCHAR(200) NOT NULL, 
	since DATE NOT NULL, 
	status VARCHAR(16) NOT NULL, 
	import_id INTEGER, 
	PRIMARY KEY (line_id, since, status), 
	FOREIGN KEY(line_id) REFERENCES county_lines (id), 
	FOREIGN KEY(import_id) REFERENCES imports (id)
);
CREATE TABLE visit_referrals (
	visit_id VARCHAR(200) NOT NULL, 
	referral VARCHAR(32) NOT NULL, 
	PRIMARY KEY (visit_id, referral), 
	FOREIGN KEY(visit_id) REFERENCES visits (id)
);
CREATE TABLE visit_support (
	visit_id VARCHAR(200) NOT NULL, 
	support VARCHAR(32) NOT NULL, 
	PRIMARY KEY (visit_id, support), 
	FOREIGN KEY(visit_id) REFERENCES visits (id)
);
CREATE TABLE organisations (
	id VARCHAR(64) NOT NULL, 
	name TEXT NOT NULL, 
	kind VARCHAR(32) NOT NULL, 
	demo BOOLEAN NOT NULL, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (id)
);
CREATE TABLE audit_log (
	id INTEGER NOT NULL, 
	at DATETIME NOT NULL, 
	actor VARCHAR(128), 
	role VARCHAR(16), 
	organisation_id VARCHAR(64), 
	action VARCHAR(32) NOT NULL, 
	outcome VARCHAR(16) NOT NULL, 
	area_id VARCHAR(64), 
	subject VARCHAR(128), 
	detail TEXT NOT NULL, 
	PRIMARY KEY (id)
);
CREATE INDEX ix_audit_actor ON audit_log (actor);
CREATE INDEX ix_audit_at ON audit_log (at);
CREATE TABLE users (
	id INTEGER NOT NULL, 
	username VARCHAR(128) NOT NULL, 
	display_name TEXT NOT NULL, 
	role VARCHAR(16) NOT NULL, 
	organisation_id VARCHAR(64) NOT NULL, 
	password_hash TEXT, 
	email VARCHAR(254), 
	oidc_subject VARCHAR(512), 
	disabled BOOLEAN NOT NULL, 
	demo BOOLEAN NOT NULL, 
	failed_logins INTEGER NOT NULL, 
	locked_until DATETIME, 
	last_login_at DATETIME, 
	password_changed_at DATETIME, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (username), 
	FOREIGN KEY(organisation_id) REFERENCES organisations (id), 
	UNIQUE (oidc_subject)
);
CREATE TABLE isa_scopes (
	organisation_id VARCHAR(64) NOT NULL, 
	reference TEXT NOT NULL, 
	areas TEXT NOT NULL, 
	layers TEXT NOT NULL, 
	data_from DATE, 
	data_to DATE, 
	updated_at DATETIME NOT NULL, 
	updated_by VARCHAR(128) NOT NULL, 
	PRIMARY KEY (organisation_id), 
	FOREIGN KEY(organisation_id) REFERENCES organisations (id)
);
CREATE TABLE sessions (
	token_hash VARCHAR(64) NOT NULL, 
	user_id INTEGER NOT NULL, 
	method VARCHAR(16) NOT NULL, 
	created_at DATETIME NOT NULL, 
	last_seen_at DATETIME NOT NULL, 
	expires_at DATETIME NOT NULL, 
	idle_timeout_s INTEGER NOT NULL, 
	revoked_at DATETIME, 
	PRIMARY KEY (token_hash), 
	FOREIGN KEY(user_id) REFERENCES users (id)
);
CREATE INDEX ix_sessions_user_id ON sessions (user_id);
