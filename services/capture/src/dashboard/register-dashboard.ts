import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { Keys } from '../../../../runtime/keys.ts';
import { registerMonitorMetrics } from '../../../../runtime/monitor/monitor-metrics.ts';
import {
  PipelineMonitor,
  type PipelineMonitorOptions,
} from '../../../../runtime/monitor/pipeline-monitor.ts';
import { dashboardRoutes } from './dashboard-routes.ts';

/**
 * The lag page's options: the monitor's Redis connection (one server or a Redis Cluster, opened
 * with `connectRedisClient`) and timings.
 */
export type DashboardOptions = Omit<PipelineMonitorOptions, 'keys'>;

/**
 * Serves the live lag page and exports the monitor's view on the server's /metrics. The monitor
 * samples from the moment the server is ready until it closes; the connection stays the caller's.
 */
export function registerDashboard(
  app: FastifyInstance,
  keys: Keys,
  metrics: Registry,
  options: DashboardOptions,
  actions: boolean,
): PipelineMonitor {
  const monitor = new PipelineMonitor({ ...options, keys });
  registerMonitorMetrics(() => monitor.latest(), metrics);
  app.addHook('onReady', async () => monitor.start());
  app.addHook('onClose', async () => monitor.stop());
  void app.register(dashboardRoutes, { monitor, redis: options.redis, keys, actions });
  return monitor;
}
