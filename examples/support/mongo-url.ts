/**
 * The connection string with its database (the path) replaced, keeping credentials, hosts and
 * options such as `?directConnection=true`. Done on the text because a seed list
 * (`host1:27017,host2:27017`) is not a URL the WHATWG parser accepts.
 * Format: https://www.mongodb.com/docs/manual/reference/connection-string/
 */
export function withDatabase(url: string, database: string): string {
  const match = /^(mongodb(?:\+srv)?:\/\/[^/?#]+)(?:\/[^?#]*)?(.*)$/.exec(url);
  if (!match) throw new Error('MONGO_URL must be a mongodb:// or mongodb+srv:// connection string');
  return `${match[1]}/${encodeURIComponent(database)}${match[2]}`;
}

/** The connection string with its password replaced, for messages. */
export function redactMongoUrl(url: string): string {
  return url.replace(/^([a-z+]+:\/\/[^:/@]*):[^@/]*@/i, '$1:***@');
}
