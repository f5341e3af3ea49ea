--
-- PostgreSQL database dump
--


-- Dumped from database version 15.20 (Debian 15.20-0+deb12u1)
-- Dumped by pg_dump version 15.20 (Debian 15.20-0+deb12u1)

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

--
-- Name: __SCHEMA__; Type: SCHEMA; Schema: -; Owner: -
--



SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: agent_tokens; Type: TABLE; Schema: __SCHEMA__; Owner: -
--

CREATE TABLE __SCHEMA__.agent_tokens (
    id text NOT NULL,
    site_id text NOT NULL,
    token_hash text NOT NULL,
    created_at text NOT NULL,
    revoked_at text
);


--
-- Name: agents; Type: TABLE; Schema: __SCHEMA__; Owner: -
--

CREATE TABLE __SCHEMA__.agents (
    id text NOT NULL,
    site_id text NOT NULL,
    hostname text NOT NULL,
    version text NOT NULL,
    last_seen_at text NOT NULL,
    last_heartbeat text
);


--
-- Name: kysely_migration; Type: TABLE; Schema: __SCHEMA__; Owner: -
--

CREATE TABLE __SCHEMA__.kysely_migration (
    name character varying(255) NOT NULL,
    "timestamp" character varying(255) NOT NULL
);


--
-- Name: kysely_migration_lock; Type: TABLE; Schema: __SCHEMA__; Owner: -
--

CREATE TABLE __SCHEMA__.kysely_migration_lock (
    id character varying(255) NOT NULL,
    is_locked integer DEFAULT 0 NOT NULL
);


--
-- Name: run_now_requests; Type: TABLE; Schema: __SCHEMA__; Owner: -
--

CREATE TABLE __SCHEMA__.run_now_requests (
    id text NOT NULL,
    site_id text NOT NULL,
    probes text NOT NULL,
    requested_at text NOT NULL
);


--
-- Name: seen_results; Type: TABLE; Schema: __SCHEMA__; Owner: -
--

CREATE TABLE __SCHEMA__.seen_results (
    site_id text NOT NULL,
    result_id text NOT NULL,
    received_at text NOT NULL
);


--
-- Name: site_schedule; Type: TABLE; Schema: __SCHEMA__; Owner: -
--

CREATE TABLE __SCHEMA__.site_schedule (
    site_id text NOT NULL,
    schedule text NOT NULL
);


--
-- Name: site_targets; Type: TABLE; Schema: __SCHEMA__; Owner: -
--

CREATE TABLE __SCHEMA__.site_targets (
    site_id text NOT NULL,
    name text NOT NULL,
    host text NOT NULL,
    port integer NOT NULL,
    transport text NOT NULL,
    keepalive text NOT NULL
);


--
-- Name: sites; Type: TABLE; Schema: __SCHEMA__; Owner: -
--

CREATE TABLE __SCHEMA__.sites (
    id text NOT NULL,
    tenant_id text NOT NULL,
    name text NOT NULL,
    created_at text NOT NULL,
    config_changed_at text
);


--
-- Name: tenants; Type: TABLE; Schema: __SCHEMA__; Owner: -
--

CREATE TABLE __SCHEMA__.tenants (
    id text NOT NULL,
    name text NOT NULL
);


--
-- Data for Name: agent_tokens; Type: TABLE DATA; Schema: __SCHEMA__; Owner: -
--

INSERT INTO __SCHEMA__.agent_tokens VALUES ('815a8f92-146b-4ae2-9259-d85ae40421ba', 'bd4ba723-4ce9-4b76-bf75-adbc6cf54f81', '58439328690c3de38f2b3175b69df81ecd3f0a57656cdc5bb640347ad48d732f', '2026-12-02T00:06:53.028Z', NULL);
INSERT INTO __SCHEMA__.agent_tokens VALUES ('548569e6-f404-4b4f-9086-4404e5412737', 'a822c01b-faaa-4b32-89e2-fed2f9d19488', 'e5b1e71441238b0edf2d59ffbaed95c990a1c94e8c36cf9a24f8246cf3162a8e', '2026-12-02T00:06:53.125Z', NULL);


--
-- Data for Name: agents; Type: TABLE DATA; Schema: __SCHEMA__; Owner: -
--

INSERT INTO __SCHEMA__.agents VALUES ('desk-1', 'bd4ba723-4ce9-4b76-bf75-adbc6cf54f81', 'desk-1.acme.lan', '0.1.0', '2026-12-02T00:06:53.055Z', NULL);


--
-- Data for Name: kysely_migration; Type: TABLE DATA; Schema: __SCHEMA__; Owner: -
--

INSERT INTO __SCHEMA__.kysely_migration VALUES ('0001_initial', '2026-12-02T00:06:52.982Z');
INSERT INTO __SCHEMA__.kysely_migration VALUES ('0002_config_change_stamp', '2026-12-02T00:06:52.985Z');
INSERT INTO __SCHEMA__.kysely_migration VALUES ('0003_run_now_requests', '2026-12-02T00:06:53.002Z');


--
-- Data for Name: kysely_migration_lock; Type: TABLE DATA; Schema: __SCHEMA__; Owner: -
--

INSERT INTO __SCHEMA__.kysely_migration_lock VALUES ('migration_lock', 0);


--
-- Data for Name: run_now_requests; Type: TABLE DATA; Schema: __SCHEMA__; Owner: -
--



--
-- Data for Name: seen_results; Type: TABLE DATA; Schema: __SCHEMA__; Owner: -
--

INSERT INTO __SCHEMA__.seen_results VALUES ('bd4ba723-4ce9-4b76-bf75-adbc6cf54f81', '11111111-1111-4111-8111-111111111111', '2026-12-02T00:06:53.094Z');


--
-- Data for Name: site_schedule; Type: TABLE DATA; Schema: __SCHEMA__; Owner: -
--

INSERT INTO __SCHEMA__.site_schedule VALUES ('bd4ba723-4ce9-4b76-bf75-adbc6cf54f81', '{"sipAlg":"*/5 * * * *","stunMapping":"0 */5 * * * *","natBehavior":"0 3 * * *","bindingLifetime":"","keepalive":"* * * * *"}');


--
-- Data for Name: site_targets; Type: TABLE DATA; Schema: __SCHEMA__; Owner: -
--

INSERT INTO __SCHEMA__.site_targets VALUES ('bd4ba723-4ce9-4b76-bf75-adbc6cf54f81', 'pbx', 'pbx.acme.example', 5060, 'udp', 'options');


--
-- Data for Name: sites; Type: TABLE DATA; Schema: __SCHEMA__; Owner: -
--

INSERT INTO __SCHEMA__.sites VALUES ('bd4ba723-4ce9-4b76-bf75-adbc6cf54f81', 'fe8aa0bd-0ded-4ed5-a265-e9230335710c', 'acme-hq', '2026-12-02T00:06:53.017Z', '2026-12-02T00:06:53.088Z');
INSERT INTO __SCHEMA__.sites VALUES ('a822c01b-faaa-4b32-89e2-fed2f9d19488', '1b00de9a-e339-426a-99da-5e901b0a4c9b', 'globex-branch', '2026-12-02T00:06:53.121Z', NULL);


--
-- Data for Name: tenants; Type: TABLE DATA; Schema: __SCHEMA__; Owner: -
--

INSERT INTO __SCHEMA__.tenants VALUES ('fe8aa0bd-0ded-4ed5-a265-e9230335710c', 'acme');
INSERT INTO __SCHEMA__.tenants VALUES ('1b00de9a-e339-426a-99da-5e901b0a4c9b', 'globex');


--
-- Name: agent_tokens agent_tokens_pkey; Type: CONSTRAINT; Schema: __SCHEMA__; Owner: -
--

ALTER TABLE ONLY __SCHEMA__.agent_tokens
    ADD CONSTRAINT agent_tokens_pkey PRIMARY KEY (id);


--
-- Name: agent_tokens agent_tokens_token_hash_key; Type: CONSTRAINT; Schema: __SCHEMA__; Owner: -
--

ALTER TABLE ONLY __SCHEMA__.agent_tokens
    ADD CONSTRAINT agent_tokens_token_hash_key UNIQUE (token_hash);


--
-- Name: agents agents_pk; Type: CONSTRAINT; Schema: __SCHEMA__; Owner: -
--

ALTER TABLE ONLY __SCHEMA__.agents
    ADD CONSTRAINT agents_pk PRIMARY KEY (site_id, id);


--
-- Name: kysely_migration_lock kysely_migration_lock_pkey; Type: CONSTRAINT; Schema: __SCHEMA__; Owner: -
--

ALTER TABLE ONLY __SCHEMA__.kysely_migration_lock
    ADD CONSTRAINT kysely_migration_lock_pkey PRIMARY KEY (id);


--
-- Name: kysely_migration kysely_migration_pkey; Type: CONSTRAINT; Schema: __SCHEMA__; Owner: -
--

ALTER TABLE ONLY __SCHEMA__.kysely_migration
    ADD CONSTRAINT kysely_migration_pkey PRIMARY KEY (name);


--
-- Name: run_now_requests run_now_requests_pkey; Type: CONSTRAINT; Schema: __SCHEMA__; Owner: -
--

ALTER TABLE ONLY __SCHEMA__.run_now_requests
    ADD CONSTRAINT run_now_requests_pkey PRIMARY KEY (id);


--
-- Name: seen_results seen_results_pk; Type: CONSTRAINT; Schema: __SCHEMA__; Owner: -
--

ALTER TABLE ONLY __SCHEMA__.seen_results
    ADD CONSTRAINT seen_results_pk PRIMARY KEY (site_id, result_id);


--
-- Name: site_schedule site_schedule_pkey; Type: CONSTRAINT; Schema: __SCHEMA__; Owner: -
--

ALTER TABLE ONLY __SCHEMA__.site_schedule
    ADD CONSTRAINT site_schedule_pkey PRIMARY KEY (site_id);


--
-- Name: site_targets site_targets_pk; Type: CONSTRAINT; Schema: __SCHEMA__; Owner: -
--

ALTER TABLE ONLY __SCHEMA__.site_targets
    ADD CONSTRAINT site_targets_pk PRIMARY KEY (site_id, name);


--
-- Name: sites sites_pkey; Type: CONSTRAINT; Schema: __SCHEMA__; Owner: -
--

ALTER TABLE ONLY __SCHEMA__.sites
    ADD CONSTRAINT sites_pkey PRIMARY KEY (id);


--
-- Name: sites sites_tenant_name_unique; Type: CONSTRAINT; Schema: __SCHEMA__; Owner: -
--

ALTER TABLE ONLY __SCHEMA__.sites
    ADD CONSTRAINT sites_tenant_name_unique UNIQUE (tenant_id, name);


--
-- Name: tenants tenants_name_key; Type: CONSTRAINT; Schema: __SCHEMA__; Owner: -
--

ALTER TABLE ONLY __SCHEMA__.tenants
    ADD CONSTRAINT tenants_name_key UNIQUE (name);


--
-- Name: tenants tenants_pkey; Type: CONSTRAINT; Schema: __SCHEMA__; Owner: -
--

ALTER TABLE ONLY __SCHEMA__.tenants
    ADD CONSTRAINT tenants_pkey PRIMARY KEY (id);


--
-- Name: agent_tokens_site_idx; Type: INDEX; Schema: __SCHEMA__; Owner: -
--

CREATE INDEX agent_tokens_site_idx ON __SCHEMA__.agent_tokens USING btree (site_id);


--
-- Name: run_now_requests_time_idx; Type: INDEX; Schema: __SCHEMA__; Owner: -
--

CREATE INDEX run_now_requests_time_idx ON __SCHEMA__.run_now_requests USING btree (requested_at);


--
-- Name: seen_results_received_idx; Type: INDEX; Schema: __SCHEMA__; Owner: -
--

CREATE INDEX seen_results_received_idx ON __SCHEMA__.seen_results USING btree (received_at);


--
-- Name: agent_tokens agent_tokens_site_id_fkey; Type: FK CONSTRAINT; Schema: __SCHEMA__; Owner: -
--

ALTER TABLE ONLY __SCHEMA__.agent_tokens
    ADD CONSTRAINT agent_tokens_site_id_fkey FOREIGN KEY (site_id) REFERENCES __SCHEMA__.sites(id) ON DELETE CASCADE;


--
-- Name: agents agents_site_id_fkey; Type: FK CONSTRAINT; Schema: __SCHEMA__; Owner: -
--

ALTER TABLE ONLY __SCHEMA__.agents
    ADD CONSTRAINT agents_site_id_fkey FOREIGN KEY (site_id) REFERENCES __SCHEMA__.sites(id) ON DELETE CASCADE;


--
-- Name: run_now_requests run_now_requests_site_id_fkey; Type: FK CONSTRAINT; Schema: __SCHEMA__; Owner: -
--

ALTER TABLE ONLY __SCHEMA__.run_now_requests
    ADD CONSTRAINT run_now_requests_site_id_fkey FOREIGN KEY (site_id) REFERENCES __SCHEMA__.sites(id) ON DELETE CASCADE;


--
-- Name: seen_results seen_results_site_id_fkey; Type: FK CONSTRAINT; Schema: __SCHEMA__; Owner: -
--

ALTER TABLE ONLY __SCHEMA__.seen_results
    ADD CONSTRAINT seen_results_site_id_fkey FOREIGN KEY (site_id) REFERENCES __SCHEMA__.sites(id) ON DELETE CASCADE;


--
-- Name: site_schedule site_schedule_site_id_fkey; Type: FK CONSTRAINT; Schema: __SCHEMA__; Owner: -
--

ALTER TABLE ONLY __SCHEMA__.site_schedule
    ADD CONSTRAINT site_schedule_site_id_fkey FOREIGN KEY (site_id) REFERENCES __SCHEMA__.sites(id) ON DELETE CASCADE;


--
-- Name: site_targets site_targets_site_id_fkey; Type: FK CONSTRAINT; Schema: __SCHEMA__; Owner: -
--

ALTER TABLE ONLY __SCHEMA__.site_targets
    ADD CONSTRAINT site_targets_site_id_fkey FOREIGN KEY (site_id) REFERENCES __SCHEMA__.sites(id) ON DELETE CASCADE;


--
-- Name: sites sites_tenant_id_fkey; Type: FK CONSTRAINT; Schema: __SCHEMA__; Owner: -
--

ALTER TABLE ONLY __SCHEMA__.sites
    ADD CONSTRAINT sites_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES __SCHEMA__.tenants(id) ON DELETE CASCADE;


--
-- PostgreSQL database dump complete
--


