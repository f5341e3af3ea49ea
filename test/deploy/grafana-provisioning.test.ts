/**
 * Grafana's provisioning files, held to the keys Grafana documents for them ("Provision Grafana":
 * data sources and dashboard providers, apiVersion 1), as JSON schemas that refuse any other key:
 * a misspelled key there is silently ignored by Grafana, so it must fail here. No Grafana runs here.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { REPO } from './agent-tarball.js';

const string = { type: 'string' } as const;
const boolean = { type: 'boolean' } as const;
const integer = { type: 'integer' } as const;

/** Grafana's documented data source keys; jsonData for InfluxDB (InfluxQL) by the InfluxDB data source's documented options. */
const DATASOURCES_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['apiVersion', 'datasources'],
  properties: {
    apiVersion: { const: 1 },
    prune: boolean,
    deleteDatasources: { type: 'array', items: { type: 'object', additionalProperties: false, required: ['name'], properties: { name: string, orgId: integer } } },
    datasources: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'type', 'access', 'url'],
        properties: {
          name: string,
          type: string,
          access: { enum: ['proxy', 'direct'] },
          orgId: integer,
          uid: string,
          url: string,
          user: string,
          database: string,
          basicAuth: boolean,
          basicAuthUser: string,
          withCredentials: boolean,
          isDefault: boolean,
          version: integer,
          editable: boolean,
          jsonData: {
            type: 'object',
            additionalProperties: false,
            properties: {
              dbName: string,
              httpMode: { enum: ['GET', 'POST'] },
              version: { enum: ['InfluxQL', 'Flux', 'SQL'] },
              timeInterval: string,
              maxSeries: integer,
              tlsSkipVerify: boolean,
              tlsAuth: boolean,
              tlsAuthWithCACert: boolean,
            },
          },
          secureJsonData: { type: 'object', additionalProperties: string },
        },
      },
    },
  },
} as const;

/** Grafana's documented dashboard provider keys (file provider). */
const DASHBOARD_PROVIDERS_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['apiVersion', 'providers'],
  properties: {
    apiVersion: { const: 1 },
    providers: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'type', 'options'],
        properties: {
          name: string,
          orgId: integer,
          folder: string,
          folderUid: string,
          type: { const: 'file' },
          disableDeletion: boolean,
          updateIntervalSeconds: integer,
          allowUiUpdates: boolean,
          options: {
            type: 'object',
            additionalProperties: false,
            required: ['path'],
            properties: { path: string, foldersFromFilesStructure: boolean },
          },
        },
      },
    },
  },
} as const;

function validate(schema: object, file: string) {
  const check = new Ajv({ allErrors: true }).compile(schema);
  const document: unknown = parse(readFileSync(join(REPO, file), 'utf8'));
  check(document);
  return { document, errors: check.errors ?? [], check };
}

describe('Grafana provisioning files', () => {
  it.each([
    ['dashboards/provisioning/datasources/algwatch.yml', DATASOURCES_SCHEMA],
    ['dashboards/provisioning/dashboards/algwatch.yml', DASHBOARD_PROVIDERS_SCHEMA],
  ] as const)('%s uses only the keys Grafana documents, with values of their type', (file, schema) => {
    expect(validate(schema, file).errors).toEqual([]);
  });

  it('refuses a misspelled key, which Grafana itself would ignore without a word', () => {
    const { document, check } = validate(DASHBOARD_PROVIDERS_SCHEMA, 'dashboards/provisioning/dashboards/algwatch.yml');
    const provider = (document as { providers: Array<Record<string, unknown>> }).providers[0]!;
    const misspelled = { ...(document as object), providers: [{ ...provider, updateIntervalSecond: 60 }] };
    expect(check(misspelled)).toBe(false);
  });
});
