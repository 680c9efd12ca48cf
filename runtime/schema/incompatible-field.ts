import avro from 'avsc';

/**
 * Where in a record schema a reader cannot read what a writer wrote: the dotted path of the
 * first field that cannot be resolved (a changed type, or a new field without a default), or
 * undefined when the problem is not in a field (the top-level types differ). avsc's resolver
 * says why but not where; an operator needs both.
 */
export function incompatibleField(
  reader: avro.Type,
  writer: avro.Type,
  path = '',
): string | undefined {
  if (!(reader instanceof avro.types.RecordType) || !(writer instanceof avro.types.RecordType)) {
    return undefined;
  }
  for (const field of reader.fields) {
    const written =
      writer.field(field.name) ??
      field.aliases.map((alias) => writer.field(alias)).find((found) => found !== undefined);
    const here = `${path}${field.name}`;
    if (!written) {
      if (field.defaultValue() === undefined) return `${here} (added without a default)`;
      continue;
    }
    try {
      field.type.createResolver(written.type);
    } catch {
      return incompatibleField(field.type, written.type, `${here}.`) ?? here;
    }
  }
  return undefined;
}
