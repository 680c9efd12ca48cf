import type { FastifyInstance } from 'fastify';
import {
  JsonTextError,
  mayHoldBigIntegers,
  parseExactJson,
} from '../../../runtime/schema/exact-json.ts';

/**
 * The parser of `application/json` bodies, fastify's own with two differences:
 *
 * - Many HTTP clients send `content-type: application/json` on every request, a DELETE without a
 *   body too, which fastify's parser refuses (FST_ERR_CTP_EMPTY_JSON_BODY). An empty body parses
 *   as no body here; a PUT or PATCH without one is still refused by validation, with its reason.
 * - An integer literal beyond ±(2^53 − 1), a 64-bit id, is read as a BigInt with every digit
 *   (runtime/schema/exact-json.ts) where JSON.parse would round it. Only a body with a run of 16
 *   digits takes that reader; any other goes to fastify's parser as before.
 *
 * A body the exact reader refuses is handed to fastify's parser for its answer (malformed JSON,
 * a prototype-poisoning key), so that both paths refuse alike.
 */
export function parseJsonBodies(app: FastifyInstance): void {
  const json = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text === '') return done(null, undefined);
    if (!mayHoldBigIntegers(text)) return json(request, text, done);
    let parsed: unknown;
    try {
      parsed = parseExactJson(text);
    } catch (error) {
      const refusal = error instanceof JsonTextError ? error : new JsonTextError(String(error));
      // fastify's parser words the refusal; should it take the text, its numbers would be rounded.
      return json(request, text, (refused) => done(refused ?? badJson(refusal)));
    }
    done(null, parsed);
  });
}

function badJson(cause: JsonTextError): Error {
  return Object.assign(new Error(`the body is not valid JSON: ${cause.message}`, { cause }), {
    statusCode: 400,
    code: 'FST_ERR_CTP_INVALID_JSON_BODY',
  });
}
