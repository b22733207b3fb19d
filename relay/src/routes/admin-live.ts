import type { FastifyPluginAsync } from 'fastify';
import type { LiveFeed } from '../metrics/live-feed.js';

/** Live views open at once on one node, at most: each costs a socket and a write a second. */
const MAX_WATCHERS = 100;

/**
 * `GET /v1/admin/live`: Server-Sent Events, an event `sample` a second (metrics/live-feed.ts)
 * for as long as the relay admin's page keeps it open. The first sample comes at once.
 */
export const adminLiveRoutes: FastifyPluginAsync<{ feed: LiveFeed }> = async (app, { feed }) => {
  app.addHook('onRequest', app.requireAdmin);
  const open = new Set<() => void>();
  // The server's close waits for every response: live ones are ended first.
  app.addHook('preClose', async () => {
    for (const end of [...open]) end();
  });

  app.get('/v1/admin/live', async (request, reply) => {
    if (feed.watching >= MAX_WATCHERS) {
      return reply.code(503).send({ code: 'TETHER_ERR_QUOTA_EXCEEDED', message: `${MAX_WATCHERS} live views are open on this relay node already: close one` });
    }
    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      // No proxy may hold samples back.
      'x-accel-buffering': 'no',
    });
    const send = (sample: unknown): void => {
      raw.write(`event: sample\ndata: ${JSON.stringify(sample)}\n\n`);
    };
    raw.write('retry: 3000\n\n');
    const unsubscribe = feed.subscribe(send);
    send(feed.latest());
    const end = (): void => {
      if (!open.delete(end)) return;
      unsubscribe();
      raw.end();
    };
    open.add(end);
    request.raw.on('close', end);
    raw.on('close', end);
  });
};
