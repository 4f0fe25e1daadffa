/// <reference lib="dom" />
// Compose SMS, MMS or email, to a new or an existing conversation. Validation errors come from the
// API's problem+json and are shown beside the field they name.
import { channels } from '@hatch/vocabulary';
import { type ApiClient, type Channel, type Message, Problem, type SendAccepted } from '../api.ts';
import { channelLabel, fieldErrors, parseAttachmentUrls } from '../format.ts';
import { h } from './dom.ts';

export interface ComposerDefaults {
  channel: Channel;
  from: string;
  to: string;
  subject?: string;
}

/** What was just sent, shown at once as the message it will become. */
export interface SentDraft
  extends SendAccepted,
    Pick<Message, 'channel' | 'from' | 'to' | 'subject' | 'body' | 'attachments'> {}

const formFields = ['type', 'from', 'to', 'subject', 'body', 'attachments'] as const;
let formCounter = 0;

export function renderComposer(options: {
  api: ApiClient;
  defaults: ComposerDefaults;
  /** Hide the recipient fields (replying in an existing conversation still lets you edit them). */
  heading: string;
  onSent(sent: SentDraft): void;
}): HTMLFormElement {
  const n = ++formCounter;
  const fieldId = (name: string) => `compose-${n}-${name}`;
  const errorSlots = new Map<string, HTMLElement>();
  const inputs = new Map<string, HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement>();

  const field = (
    name: (typeof formFields)[number],
    label: string,
    control: HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement,
    hint?: string,
  ) => {
    control.id = fieldId(name);
    control.name = name;
    const error = h('p', { class: 'field-error', id: fieldId(`${name}-error`), hidden: true });
    const hintEl = hint ? h('p', { class: 'hint', id: fieldId(`${name}-hint`) }, hint) : null;
    control.setAttribute('aria-describedby', [hintEl?.id, error.id].filter(Boolean).join(' '));
    errorSlots.set(name, error);
    inputs.set(name, control);
    return h('div', { class: `field field-${name}` }, h('label', { for: control.id }, label), control, hintEl, error);
  };

  const channelSelect = h(
    'select',
    {},
    ...channels.map((c) => h('option', { value: c, selected: c === options.defaults.channel }, channelLabel[c])),
  );
  const from = h('input', { type: 'text', autocomplete: 'off', value: options.defaults.from, required: true });
  const to = h('input', { type: 'text', autocomplete: 'off', value: options.defaults.to, required: true });
  const subject = h('input', { type: 'text', value: options.defaults.subject ?? '' });
  const body = h('textarea', { rows: 3 });
  const attachments = h('textarea', { rows: 2, placeholder: 'https://example.com/photo.jpg' });
  const formError = h('div', { class: 'form-error', role: 'alert', hidden: true });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Send');
  const sentNote = h('p', { class: 'sent-note', role: 'status' });

  const subjectField = field('subject', 'Subject', subject);
  const attachmentsField = field('attachments', 'Attachment URLs', attachments, 'One URL per line');
  const bodyField = field('body', 'Message', body);
  const bodyLabel = bodyField.querySelector('label')!;

  const form = h(
    'form',
    { class: 'composer', novalidate: true, 'aria-label': options.heading },
    h('h3', {}, options.heading),
    h(
      'div',
      { class: 'row' },
      field('type', 'Channel', channelSelect),
      field('from', 'From', from),
      field('to', 'To', to),
    ),
    subjectField,
    bodyField,
    attachmentsField,
    formError,
    h('div', { class: 'actions' }, submit, sentNote),
  );

  const syncChannel = () => {
    const channel = channelSelect.value as Channel;
    subjectField.hidden = channel !== 'email';
    attachmentsField.hidden = channel === 'sms';
    bodyLabel.textContent = channel === 'email' ? 'HTML body' : 'Message';
    from.placeholder = channel === 'email' ? 'you@example.com' : '+12025550100';
    to.placeholder = channel === 'email' ? 'contact@example.com' : '+12025550123';
  };
  channelSelect.addEventListener('change', syncChannel);
  syncChannel();

  const clearErrors = () => {
    for (const [name, slot] of errorSlots) {
      slot.hidden = true;
      slot.textContent = '';
      inputs.get(name)?.removeAttribute('aria-invalid');
    }
    formError.hidden = true;
    formError.textContent = '';
  };

  // Ctrl/Cmd+Enter sends from the body, as in most chat apps.
  body.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) form.requestSubmit();
  });

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors();
    sentNote.textContent = '';
    const channel = channelSelect.value as Channel;
    const draft = {
      from: from.value.trim(),
      to: to.value.trim(),
      body: body.value,
      attachments: channel === 'sms' ? [] : parseAttachmentUrls(attachments.value),
    };
    const subjectText = channel === 'email' ? subject.value.trim() : '';
    submit.disabled = true;
    submit.textContent = 'Sending…';
    try {
      const accepted =
        channel === 'email'
          ? await options.api.sendEmail({ ...draft, subject: subjectText })
          : await options.api.sendSms({ ...draft, type: channel });
      body.value = '';
      attachments.value = '';
      subject.value = '';
      sentNote.textContent = 'Queued for sending';
      options.onSent({
        ...accepted,
        ...draft,
        channel,
        subject: subjectText || null,
      });
    } catch (error) {
      if (error instanceof Problem) {
        const byField = fieldErrors(error, formFields);
        let first: HTMLElement | null = null;
        for (const [name, messages] of byField) {
          const slot = name ? errorSlots.get(name) : undefined;
          if (slot) {
            slot.textContent = messages.join('; ');
            slot.hidden = false;
            const input = inputs.get(name)!;
            input.setAttribute('aria-invalid', 'true');
            first ??= input;
          } else {
            formError.hidden = false;
            formError.append(h('p', {}, `${error.title}: ${messages.join('; ')}`));
          }
        }
        first?.focus();
      } else {
        formError.hidden = false;
        formError.textContent = `Could not send: ${error instanceof Error ? error.message : String(error)}`;
      }
    } finally {
      submit.disabled = false;
      submit.textContent = 'Send';
    }
  });
  return form;
}
