import { describe, expect, it } from 'vitest';
import { parsePrometheusText } from './prometheus.ts';

describe('parsePrometheusText', () => {
  it('reads samples with and without labels and skips comments', () => {
    const text = [
      '# HELP dispatcher_breaker_state Circuit breaker per provider',
      '# TYPE dispatcher_breaker_state gauge',
      'dispatcher_breaker_state{provider="messaging-provider"} 0',
      'dispatcher_breaker_state{provider="xillio",service="dispatcher"} 2',
      'dispatcher_attempts_in_flight 3',
      'http_request_duration_seconds_bucket{le="+Inf",route="/a"} 12 1700000000',
      'garbage line',
      '',
    ].join('\n');
    expect(parsePrometheusText(text)).toEqual([
      { name: 'dispatcher_breaker_state', labels: { provider: 'messaging-provider' }, value: 0 },
      { name: 'dispatcher_breaker_state', labels: { provider: 'xillio', service: 'dispatcher' }, value: 2 },
      { name: 'dispatcher_attempts_in_flight', labels: {}, value: 3 },
      { name: 'http_request_duration_seconds_bucket', labels: { le: '+Inf', route: '/a' }, value: 12 },
    ]);
  });

  it('unescapes quoted label values', () => {
    const [sample] = parsePrometheusText('m{reason="say \\"hi\\""} 1');
    expect(sample?.labels.reason).toBe('say "hi"');
  });
});
