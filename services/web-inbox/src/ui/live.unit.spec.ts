import { describe, expect, it } from 'vitest';
import { readChange } from './live.ts';

describe('readChange', () => {
  it('finds the conversation and message of a change, flat or nested', () => {
    expect(
      readChange('message', '{"type":"MessageSent","conversationId":"c1","messageId":"m1","status":"sent"}', '7'),
    ).toEqual({
      type: 'MessageSent',
      conversationId: 'c1',
      messageId: 'm1',
      status: 'sent',
      position: '7',
    });
    expect(readChange('MessageDelivered', '{"data":{"conversationId":"c2","messageId":"m2"}}', '8')).toEqual({
      type: 'MessageDelivered',
      conversationId: 'c2',
      messageId: 'm2',
      status: null,
      position: '8',
    });
  });
  it('treats frames without JSON as an unknown change', () => {
    expect(readChange('message', 'ping', '')).toEqual({
      type: 'message',
      conversationId: null,
      messageId: null,
      status: null,
      position: '',
    });
  });
});
