/**
 * docker-compose.yml against the Compose Specification's own JSON schema (the copy dclint ships,
 * pinned by its exact version in package.json), with ajv; and every file, port and variable it
 * references exists. No Docker engine runs here: this is as far as checking goes without one.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { CONFIG_FILE_SETTINGS, parseServerConfig } from '../../server/src/config.js';
import { REPO } from './agent-tarball.js';

const COMPOSE_SCHEMA = join(REPO, 'node_modules/dclint/schemas/compose.schema.json');

// A parse boundary: the shapes are asserted test by test.
const composeText = readFileSync(join(REPO, 'docker-compose.yml'), 'utf8');
const compose = parse(composeText) as Record<string, any>;

function validatorFor(schema: object) {
  // strict off: the published schema uses keywords ajv does not define (e.g. `deprecated`);
  // formats off: it names formats (duration...) that only Compose itself implements.
  const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false });
  // The schema names draft-07 by its https address; ajv registers the same meta-schema under the
  // http one. Same draft, so point it there rather than fetch anything.
  return ajv.compile({ ...schema, $schema: 'http://json-schema.org/draft-07/schema#' });
}

describe('docker-compose.yml', () => {
  const schema = JSON.parse(readFileSync(COMPOSE_SCHEMA, 'utf8')) as { title: string; properties: Record<string, unknown> };

  it('is checked against the Compose Specification schema itself', () => {
    expect(schema.title).toBe('Compose Specification');
    // The current specification (top-level name, include, models), not the 2020 one.
    expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(['name', 'services', 'volumes', 'include']));
  });

  it('is valid against the Compose Specification', () => {
    const validate = validatorFor(schema);
    const valid = validate(compose);
    expect(validate.errors ?? [], JSON.stringify(validate.errors, null, 1)).toEqual([]);
    expect(valid).toBe(true);
  });

  it('would be caught by that schema when wrong (a misspelled key, a port as an object)', () => {
    const validate = validatorFor(schema);
    expect(validate({ ...compose, services: { ...compose.services, algwatch: { ...compose.services.algwatch, restarts: 'always' } } })).toBe(false);
    expect(validate({ ...compose, services: { ...compose.services, grafana: { ...compose.services.grafana, ports: [{ published: { port: 3000 } }] } } })).toBe(false);
  });

  it('references only files that exist: build contexts, their Dockerfiles, and bind mounts', () => {
    for (const [name, service] of Object.entries(compose.services as Record<string, any>)) {
      if (service.build) {
        const context = typeof service.build === 'string' ? service.build : service.build.context;
        const dockerfile = (typeof service.build === 'object' && service.build.dockerfile) || 'Dockerfile';
        expect(existsSync(join(REPO, context, dockerfile)), `${name}: ${context}/${dockerfile}`).toBe(true);
      }
      for (const volume of (service.volumes ?? []) as string[]) {
        const source = volume.split(':')[0]!;
        if (source.startsWith('.')) expect(existsSync(join(REPO, source)), `${name}: ${source}`).toBe(true);
        else expect(Object.keys(compose.volumes), `${name}: named volume ${source}`).toContain(source);
      }
    }
    // Grafana's home dashboard path is inside the mounted dashboards folder.
    const home = compose.services.grafana.environment.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH as string;
    const mount = (compose.services.grafana.volumes as string[]).map((volume) => volume.split(':')).find(([, target]) => home.startsWith(`${target}/`));
    expect(mount, home).toBeDefined();
    expect(existsSync(join(REPO, mount![0]!, home.slice(mount![1]!.length)))).toBe(true);
  });

  it('publishes exactly the ports the server listens on and its image exposes', () => {
    const server = compose.services.algwatch;
    const config = parseServerConfig(server.command as string[], { ALGWATCH_PUBLIC_HOST: 'sip.example.net' });
    const listening = new Set([
      `${config.sipPort}/udp`,
      `${config.sipPort}/tcp`,
      `${config.tlsPort}/tcp`,
      `${config.stunPort}/udp`,
      `${config.stunAltPort}/udp`,
      `${config.httpPort}/tcp`,
    ]);
    const published = (server.ports as string[]).map((port) => port.split(':').at(-1)!);
    expect(new Set(published)).toEqual(listening);
    const exposed = /^EXPOSE (.+)$/m.exec(readFileSync(join(REPO, 'Dockerfile'), 'utf8'))![1]!.split(' ');
    expect(new Set(exposed)).toEqual(listening);
    // /metrics stays unpublished: loopback-only inside the container unless configured otherwise.
    expect(published).not.toContain(`${config.metricsPort}/tcp`);
  });

  it('uses only variables the server knows, each with its failure message when required', () => {
    const knownVariables = new Set(['ALGWATCH_CONFIG', 'ALGWATCH_DEBUG', ...CONFIG_FILE_SETTINGS.map((setting) => `ALGWATCH_${setting.flag.toUpperCase().replaceAll('-', '_')}`)]);
    const interpolated = [...composeText.matchAll(/\$\{([A-Z0-9_]+)(:?[?-][^}]*)?\}/g)].map((match) => match[1]!);
    expect(interpolated.length).toBeGreaterThan(0);
    for (const variable of interpolated) expect(knownVariables, variable).toContain(variable);
    for (const variable of Object.keys(compose.services.algwatch.environment ?? {})) expect(knownVariables, variable).toContain(variable);
  });
});

describe('agent/Dockerfile', () => {
  const dockerfile = readFileSync(join(REPO, 'agent/Dockerfile'), 'utf8');

  it('copies only files that exist (built from the repository root)', () => {
    const sources = [...dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((copy) => copy[1]!.split(' '));
    expect(sources.length).toBeGreaterThan(0);
    for (const source of sources) expect(existsSync(join(REPO, source)), source).toBe(true);
  });

  it('installs the packed agent and runs `algwatch-agent run`, with the reason for host networking written down', () => {
    expect(dockerfile).toMatch(/npm pack --ignore-scripts/);
    expect(dockerfile).toMatch(/npm install --global --offline .*algwatch-agent-\*\.tgz/);
    expect(JSON.parse(/^ENTRYPOINT (.+)$/m.exec(dockerfile)![1]!)).toEqual(['algwatch-agent']);
    expect(JSON.parse(/^CMD (.+)$/m.exec(dockerfile)![1]!)).toEqual(['run']);
    expect(dockerfile).toMatch(/--network host is required/);
    expect(dockerfile).toMatch(/^USER node$/m);
  });
});
