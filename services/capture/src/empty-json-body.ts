import type { FastifyInstance } from 'fastify';

/**
 * Many HTTP clients send `content-type: application/json` on every request, a DELETE without a
 * body too, which fastify's JSON parser refuses (FST_ERR_CTP_EMPTY_JSON_BODY). An empty body
 * parses as no body here; a PUT or PATCH without one is still refused by validation, with its
 * reason. Any other body goes to fastify's own parser (with its prototype-poisoning checks).
 */
export function acceptEmptyJsonBodies(app: FastifyInstance): void {
  const json = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text === '') done(null, undefined);
    else json(request, text, done);
  });
}
