-- The store schema of the previous release (commit 5c2c932), as its create_all emitted it
-- for postgresql (generated once from that commit's hullguard.store; do not edit).

CREATE TABLE inventory_occurrences (
	id SERIAL NOT NULL, 
	registry VARCHAR(255) NOT NULL, 
	repository VARCHAR(255) NOT NULL, 
	tag VARCHAR(128) NOT NULL, 
	ref_digest VARCHAR(140) NOT NULL, 
	ref_name VARCHAR(700) NOT NULL, 
	raw TEXT NOT NULL, 
	kind VARCHAR(20) NOT NULL, 
	path TEXT NOT NULL, 
	line INTEGER NOT NULL, 
	namespace VARCHAR(255) NOT NULL, 
	workload_kind VARCHAR(64) NOT NULL, 
	workload VARCHAR(255) NOT NULL, 
	container VARCHAR(255) NOT NULL, 
	helm_source TEXT NOT NULL, 
	workload_key VARCHAR(600) NOT NULL, 
	running_digest VARCHAR(140) NOT NULL, 
	role VARCHAR(20) NOT NULL, 
	PRIMARY KEY (id)
);

CREATE INDEX ix_inventory_occurrences_running_digest ON inventory_occurrences (running_digest);

CREATE INDEX ix_inventory_occurrences_ref_name ON inventory_occurrences (ref_name);

CREATE INDEX ix_inventory_occurrences_workload_key ON inventory_occurrences (workload_key);

CREATE INDEX ix_inventory_occurrences_ref_digest ON inventory_occurrences (ref_digest);

CREATE TABLE inventory_workloads (
	key VARCHAR(600) NOT NULL, 
	namespace VARCHAR(255) NOT NULL, 
	kind VARCHAR(64) NOT NULL, 
	name VARCHAR(255) NOT NULL, 
	source TEXT NOT NULL, 
	data TEXT NOT NULL, 
	internet_facing BOOLEAN NOT NULL, 
	exposure_via TEXT NOT NULL, 
	environment VARCHAR(20) NOT NULL, 
	criticality VARCHAR(20) NOT NULL, 
	criticality_source VARCHAR(300) NOT NULL, 
	PRIMARY KEY (key)
);

CREATE TABLE inventory_declared (
	id SERIAL NOT NULL, 
	dockerfile TEXT NOT NULL, 
	base VARCHAR(700) NOT NULL, 
	line INTEGER NOT NULL, 
	stage VARCHAR(255) NOT NULL, 
	target VARCHAR(700) NOT NULL, 
	consumer VARCHAR(600) NOT NULL, 
	PRIMARY KEY (id)
);

CREATE INDEX ix_inventory_declared_base ON inventory_declared (base);

CREATE INDEX ix_inventory_declared_target ON inventory_declared (target);

CREATE TABLE inventory_issues (
	id SERIAL NOT NULL, 
	path TEXT NOT NULL, 
	line INTEGER NOT NULL, 
	severity VARCHAR(10) NOT NULL, 
	message TEXT NOT NULL, 
	PRIMARY KEY (id)
);

CREATE TABLE inventory_sources (
	id SERIAL NOT NULL, 
	source TEXT NOT NULL, 
	PRIMARY KEY (id)
);

CREATE TABLE graph_images (
	id VARCHAR(140) NOT NULL, 
	chain_hash VARCHAR(32) NOT NULL, 
	chain_len INTEGER NOT NULL, 
	parent VARCHAR(140), 
	names TEXT NOT NULL, 
	digests TEXT NOT NULL, 
	PRIMARY KEY (id)
);

CREATE INDEX ix_graph_images_parent ON graph_images (parent);

CREATE INDEX ix_graph_images_chain_hash ON graph_images (chain_hash);

CREATE TABLE graph_names (
	id SERIAL NOT NULL, 
	name VARCHAR(700) NOT NULL, 
	image_id VARCHAR(140) NOT NULL, 
	PRIMARY KEY (id)
);

CREATE INDEX ix_graph_names_image_id ON graph_names (image_id);

CREATE INDEX ix_graph_names_name ON graph_names (name);

CREATE TABLE graph_prefixes (
	id SERIAL NOT NULL, 
	prefix VARCHAR(32) NOT NULL, 
	image_id VARCHAR(140) NOT NULL, 
	PRIMARY KEY (id)
);

CREATE INDEX ix_graph_prefixes_prefix ON graph_prefixes (prefix);

CREATE INDEX ix_graph_prefixes_image_id ON graph_prefixes (image_id);

CREATE TABLE graph_packages (
	id SERIAL NOT NULL, 
	image_id VARCHAR(140) NOT NULL, 
	key VARCHAR(255) NOT NULL, 
	name VARCHAR(255) NOT NULL, 
	version VARCHAR(255) NOT NULL, 
	type VARCHAR(20) NOT NULL, 
	purl TEXT NOT NULL, 
	PRIMARY KEY (id)
);

CREATE INDEX ix_graph_packages_key ON graph_packages (key);

CREATE INDEX ix_graph_packages_image_id ON graph_packages (image_id);

CREATE TABLE graph_links (
	id SERIAL NOT NULL, 
	occurrence_id INTEGER NOT NULL, 
	image_id VARCHAR(140) NOT NULL, 
	via VARCHAR(10) NOT NULL, 
	PRIMARY KEY (id)
);

CREATE INDEX ix_graph_links_occurrence_id ON graph_links (occurrence_id);

CREATE INDEX ix_graph_links_image_id ON graph_links (image_id);

CREATE TABLE graph_synced (
	sbom_digest VARCHAR(80) NOT NULL, 
	PRIMARY KEY (sbom_digest)
);

CREATE TABLE images (
	id SERIAL NOT NULL, 
	key VARCHAR(1024) NOT NULL, 
	digest VARCHAR(200), 
	reference TEXT NOT NULL, 
	chain TEXT NOT NULL, 
	sbom_digest VARCHAR(80), 
	first_seen TIMESTAMP WITH TIME ZONE NOT NULL, 
	last_seen TIMESTAMP WITH TIME ZONE NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (key)
);

CREATE INDEX ix_images_digest ON images (digest);

CREATE TABLE sboms (
	digest VARCHAR(80) NOT NULL, 
	image_id INTEGER NOT NULL, 
	created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	packages INTEGER NOT NULL, 
	data BYTEA NOT NULL, 
	PRIMARY KEY (digest), 
	FOREIGN KEY(image_id) REFERENCES images (id)
);

CREATE INDEX ix_sboms_image_id ON sboms (image_id);

CREATE TABLE scans (
	id SERIAL NOT NULL, 
	image_id INTEGER NOT NULL, 
	sbom_digest VARCHAR(80) NOT NULL, 
	kind VARCHAR(16) NOT NULL, 
	created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	database TEXT NOT NULL, 
	counts TEXT NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(image_id) REFERENCES images (id), 
	FOREIGN KEY(sbom_digest) REFERENCES sboms (digest)
);

CREATE INDEX ix_scans_image_id ON scans (image_id);

CREATE TABLE findings (
	id SERIAL NOT NULL, 
	scan_id INTEGER NOT NULL, 
	vuln_id VARCHAR(200) NOT NULL, 
	aliases TEXT NOT NULL, 
	package_key TEXT NOT NULL, 
	purl TEXT NOT NULL, 
	package_name TEXT NOT NULL, 
	version TEXT NOT NULL, 
	severity INTEGER NOT NULL, 
	fixed_versions TEXT NOT NULL, 
	suppressed_by TEXT NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(scan_id) REFERENCES scans (id) ON DELETE CASCADE
);

CREATE INDEX ix_findings_vuln_id ON findings (vuln_id);

CREATE INDEX ix_findings_scan_id ON findings (scan_id);
