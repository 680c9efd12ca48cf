import avro from 'avsc';
import { ConfigError } from '../../../runtime/errors/config-error.ts';
import { recordFields } from '../../../runtime/schema/avro-schema.ts';
import { stringifyExactJson } from '../../../runtime/schema/exact-json.ts';
import type { RegisteredSchema } from '../../../runtime/schema/schema-registry.ts';
import type { EntityTarget } from '../../../runtime/sink/sink.ts';

/** How one entity maps to a table. Every field is optional. */
export interface TableConfig {
  /** PostgreSQL schema of the table. Default: the sink's schema (`public`). */
  schema?: string;
  /** Table name. Default: the entity name. */
  table?: string;
  /**
   * Avro field -> column name, or `{ column, type }` to choose the SQL type too (for example
   * `{ "column": "date_of_birth", "type": "date" }`). Fields not listed keep their own names.
   */
  columns?: Record<string, string | { column: string; type?: string }>;
}

/** How a value is passed to PostgreSQL. */
export type ValueKind = 'plain' | 'json' | 'bytes';

export interface ColumnMapping {
  field: string;
  column: string;
  /** SQL type, e.g. `text`, `bigint`, `timestamptz`, `jsonb`. */
  sqlType: string;
  nullable: boolean;
  kind: ValueKind;
}

export interface TableMapping {
  entity: string;
  /** The reader schema the columns were derived from. */
  reader: RegisteredSchema;
  schema: string;
  table: string;
  key: ColumnMapping;
  /** All columns, the key first. */
  columns: ColumnMapping[];
}

const SQL_TYPE = /^[A-Za-z][A-Za-z0-9 _]*(\(\d+(,\s*\d+)?\))?(\[\])?$/;
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_$]{0,62}$/;

/** The SQL type an Avro type is stored as. Unions of null and one type are that type, nullable. */
export function sqlTypeOf(type: avro.Type): {
  sqlType: string;
  nullable: boolean;
  kind: ValueKind;
} {
  if (avro.Type.isType(type, 'union')) {
    const members = (type as unknown as { types: avro.Type[] }).types;
    const nonNull = members.filter((t) => t.typeName !== 'null');
    if (nonNull.length === 1 && nonNull.length < members.length)
      return { ...sqlTypeOf(nonNull[0]!), nullable: true };
    return { sqlType: 'jsonb', nullable: members.length > nonNull.length, kind: 'json' };
  }
  if (avro.Type.isType(type, 'logical:date'))
    return { sqlType: 'date', nullable: false, kind: 'plain' };
  if (avro.Type.isType(type, 'logical:timestamp-millis'))
    return { sqlType: 'timestamptz', nullable: false, kind: 'plain' };
  switch (type.typeName) {
    case 'string':
    case 'enum':
      return { sqlType: 'text', nullable: false, kind: 'plain' };
    case 'int':
      return { sqlType: 'integer', nullable: false, kind: 'plain' };
    case 'long':
      return { sqlType: 'bigint', nullable: false, kind: 'plain' };
    case 'float':
      return { sqlType: 'real', nullable: false, kind: 'plain' };
    case 'double':
      return { sqlType: 'double precision', nullable: false, kind: 'plain' };
    case 'boolean':
      return { sqlType: 'boolean', nullable: false, kind: 'plain' };
    case 'bytes':
    case 'fixed':
      return { sqlType: 'bytea', nullable: false, kind: 'bytes' };
    case 'null':
      return { sqlType: 'text', nullable: true, kind: 'plain' };
    default:
      // Records, arrays and maps keep their structure as JSON.
      return { sqlType: 'jsonb', nullable: false, kind: 'json' };
  }
}

/** Derives the table of an entity from its reader schema and the optional configuration. */
export function mapTable(
  target: EntityTarget,
  config: TableConfig | undefined,
  defaultSchema: string,
): TableMapping {
  const schema = config?.schema ?? defaultSchema;
  const table = config?.table ?? target.entity;
  checkIdentifier(schema, `schema of ${target.entity}`);
  checkIdentifier(table, `table of ${target.entity}`);
  const fields = recordFields(target.schema.type, target.entity);
  for (const field of Object.keys(config?.columns ?? {})) {
    if (!fields.some((f) => f.name === field)) {
      throw new ConfigError(
        `column mapping of ${target.entity} names "${field}", which is not a field of its schema`,
      );
    }
  }
  const columns = fields.map((field): ColumnMapping => {
    const derived = sqlTypeOf(field.type);
    const mapped = config?.columns?.[field.name];
    const column = typeof mapped === 'string' ? mapped : (mapped?.column ?? field.name);
    const sqlType = typeof mapped === 'object' && mapped.type ? mapped.type : derived.sqlType;
    checkIdentifier(column, `column for ${target.entity}.${field.name}`);
    if (!SQL_TYPE.test(sqlType))
      throw new ConfigError(
        `SQL type "${sqlType}" of ${target.entity}.${field.name} is not a plain type name`,
      );
    return {
      field: field.name,
      column,
      sqlType,
      nullable: derived.nullable,
      kind: sqlType === 'jsonb' || sqlType === 'json' ? 'json' : derived.kind,
    };
  });
  if (new Set(columns.map((c) => c.column)).size !== columns.length) {
    throw new ConfigError(`column mapping of ${target.entity} maps two fields to one column`);
  }
  const key = columns.find((c) => c.field === target.keyField);
  if (!key)
    throw new ConfigError(`schema of ${target.entity} has no key field "${target.keyField}"`);
  return {
    entity: target.entity,
    reader: target.schema,
    schema,
    table,
    key,
    columns: [key, ...columns.filter((c) => c !== key)],
  };
}

function checkIdentifier(name: string, what: string): void {
  // Quoting would make any name safe, but a name that needs quoting is almost always a mistake.
  if (!IDENTIFIER.test(name))
    throw new ConfigError(`${what} "${name}" must be a plain SQL identifier`);
}

/** Converts a record value to the parameter PostgreSQL expects for the column. */
export function toParam(column: ColumnMapping, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  // A long beyond ±(2^53 - 1) is a BigInt: node-postgres sends its digits for a plain column, and
  // in JSON it is written as its digits too (a jsonb number keeps them).
  if (column.kind === 'json') return stringifyExactJson(value);
  return value;
}
