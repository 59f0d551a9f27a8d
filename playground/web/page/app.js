// The playground page: shows the guild as one member sees it and turns every command, click and modal into a
// request to the stand-in, which signs it and sends it to Coinhub's /interactions as Discord would.

const $ = (id) => document.getElementById(id);
const OPTION = { SUBCOMMAND: 1, STRING: 3, INTEGER: 4, BOOLEAN: 5, USER: 6, CHANNEL: 7, ROLE: 8, NUMBER: 10 };

const view = {
  member: new URLSearchParams(location.search).get('member') ?? localStorage.getItem('member') ?? 'alex',
  channel: localStorage.getItem('channel'),
  data: null,
  shownVersion: null,
  command: null,
};

const escapeHtml = (s) =>
  String(s).replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c],
  );

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else if (k === 'html') node.innerHTML = v;
    else node.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat(Infinity)) if (c !== null && c !== undefined) node.append(c);
  return node;
}

/** Discord's markdown, the parts Coinhub writes: mentions, bold, italics, code, quotes, timestamps. */
function markdown(text) {
  const d = view.data;
  const name = (id) => d.members.find((m) => m.id === id)?.name ?? `user ${id.slice(-4)}`;
  return escapeHtml(text ?? '')
    .replace(/&lt;@!?(\d+)&gt;/g, (_, id) => `<span class="mention">@${escapeHtml(name(id))}</span>`)
    .replace(/&lt;@&amp;(\d+)&gt;/g, (_, id) => {
      const role = d.roles.find((r) => r.id === id);
      return `<span class="mention">@${escapeHtml(role?.name ?? 'role')}</span>`;
    })
    .replace(/&lt;#(\d+)&gt;/g, (_, id) => {
      const ch = d.channels.find((c) => c.id === id);
      return `<span class="mention">#${escapeHtml(ch?.name ?? 'channel')}</span>`;
    })
    .replace(/&lt;t:(\d+)(?::\w)?&gt;/g, (_, s) => new Date(Number(s) * 1000).toLocaleString())
    .replace(/```([\s\S]+?)```/g, '<code>$1</code>')
    .replace(/`([^`]+)`/g, '<code>$1</code>')
    .replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>')
    .replace(/(^|\W)\*([^*\n]+)\*(?=\W|$)/g, '$1<em>$2</em>')
    .replace(/(^|\W)_([^_\n]+)_(?=\W|$)/g, '$1<em>$2</em>')
    .replace(/~~([^~]+)~~/g, '<s>$1</s>')
    .replace(/^-# (.*)$/gm, '<small>$1</small>')
    .replace(/^&gt; (.*)$/gm, '<blockquote>$1</blockquote>');
}

async function post(action, body) {
  const res = await fetch(`/playground/${action}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ member: view.member, channel: view.data?.channel, ...body }),
  });
  const answer = await res.json();
  if (!res.ok) throw new Error(answer.error ?? `HTTP ${res.status}`);
  return answer;
}

async function refresh(force = false) {
  const q = new URLSearchParams({ member: view.member, ...(view.channel ? { channel: view.channel } : {}) });
  const res = await fetch(`/playground/state?${q}`);
  if (!res.ok) return;
  const data = await res.json();
  const changed =
    force || !view.data || data.version !== view.shownVersion || data.channel !== view.data.channel;
  view.data = data;
  view.channel = data.channel;
  if (changed) {
    view.shownVersion = data.version;
    render();
  }
}

function render() {
  const d = view.data;
  $('guild-name').textContent = d.guild.name;
  document.title = `#${d.channels.find((c) => c.id === d.channel)?.name ?? ''} · ${d.guild.name}`;
  const link = (c) =>
    el(
      'li',
      {},
      el(
        'a',
        {
          href: '#',
          class: c.id === d.channel ? 'active' : '',
          'data-channel': c.name,
          onclick: (e) => {
            e.preventDefault();
            view.channel = c.id;
            localStorage.setItem('channel', c.id);
            refresh(true);
          },
        },
        c.dm ? '@ ' : '# ',
        c.name,
        c.private ? el('span', { class: 'lock', title: 'Private channel' }, '🔒') : null,
      ),
    );
  $('channels').replaceChildren(...d.channels.filter((c) => !c.dm).map(link));
  const dms = d.channels.filter((c) => c.dm);
  $('dm-title').hidden = dms.length === 0;
  $('dms').replaceChildren(...dms.map(link));

  const picker = $('member');
  picker.replaceChildren(
    ...d.members.map((m) =>
      el('option', { value: m.key, selected: m.id === d.me.id }, `${m.name} (${m.label})`),
    ),
  );
  const roleNames = d.me.roles.map((id) => d.roles.find((r) => r.id === id)?.name).filter(Boolean);
  $('member-roles').textContent =
    (d.me.admin ? 'Administrator' : 'Member') + (roleNames.length ? ` · roles: ${roleNames.join(', ')}` : '');

  const channel = d.channels.find((c) => c.id === d.channel);
  $('channel-name').textContent = channel?.name ?? '';
  $('channel-topic').textContent = channel?.topic ?? '';
  $('command-input').placeholder = channel
    ? `Type / for commands in #${channel.name}`
    : 'Type / for commands';

  const box = $('messages');
  const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 80;
  box.replaceChildren(...d.messages.map(renderMessage));
  if (atBottom) box.scrollTop = box.scrollHeight;
}

function renderMessage(m) {
  const when = new Date(m.timestamp).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  const content = m.content
    ? el('div', {
        class: `content${m.thinking ? ' thinking' : ''}${m.failed ? ' failed' : ''}`,
        html: markdown(m.content),
      })
    : null;
  return el(
    'article',
    { class: `message${m.ephemeral ? ' ephemeral' : ''}`, 'data-message': m.id },
    el('div', { class: 'avatar' }, 'C'),
    el(
      'div',
      { class: 'body' },
      el(
        'div',
        {},
        el('span', { class: 'author' }, m.author.username),
        el('span', { class: 'bot-tag' }, 'APP'),
        el('span', { class: 'time' }, when),
      ),
      content,
      ...(m.embeds ?? []).map(renderEmbed),
      ...(m.components ?? []).map((row) => renderRow(row, m)),
      m.ephemeral
        ? el(
            'div',
            { class: 'ephemeral-note' },
            '👁 Only you can see this · ',
            el(
              'a',
              { onclick: () => post('dismiss', { message: m.id }).then(() => refresh(true)) },
              'Dismiss message',
            ),
          )
        : null,
    ),
  );
}

function renderEmbed(e) {
  const color = typeof e.color === 'number' ? `#${e.color.toString(16).padStart(6, '0')}` : undefined;
  return el(
    'div',
    { class: 'embed', style: color ? `border-left-color:${color}` : undefined },
    e.author?.name ? el('div', { class: 'embed-author' }, e.author.name) : null,
    e.title ? el('div', { class: 'embed-title', html: markdown(e.title) }) : null,
    e.description ? el('div', { class: 'embed-description', html: markdown(e.description) }) : null,
    e.fields?.length
      ? el(
          'div',
          { class: 'embed-fields' },
          e.fields.map((f) =>
            el(
              'div',
              { class: `embed-field${f.inline ? ' inline' : ''}` },
              el('div', { class: 'embed-field-name', html: markdown(f.name) }),
              el('div', { class: 'embed-field-value', html: markdown(f.value) }),
            ),
          ),
        )
      : null,
    e.footer?.text || e.timestamp
      ? el(
          'div',
          { class: 'embed-footer' },
          [e.footer?.text, e.timestamp && new Date(e.timestamp).toLocaleString()].filter(Boolean).join(' • '),
        )
      : null,
  );
}

function renderRow(row, message) {
  return el(
    'div',
    { class: 'row' },
    (row.components ?? []).map((c) => {
      if (c.type === 2) {
        const label = [c.emoji?.name, c.label].filter(Boolean).join(' ');
        if (c.style === 5)
          return el(
            'button',
            { class: 'style-5', onclick: () => window.open(c.url, '_blank') },
            `${label} ↗`,
          );
        return el(
          'button',
          {
            class: `style-${c.style}`,
            disabled: c.disabled,
            'data-custom-id': c.custom_id,
            onclick: () => click(message, c.custom_id),
          },
          label,
        );
      }
      if (c.type === 3) {
        const select = el(
          'select',
          {
            'data-custom-id': c.custom_id,
            disabled: c.disabled,
            onchange: (ev) => click(message, c.custom_id, [ev.target.value]),
          },
          el('option', { value: '', disabled: true, selected: true }, c.placeholder ?? 'Make a selection'),
          (c.options ?? []).map((o) =>
            el('option', { value: o.value }, [o.emoji?.name, o.label].filter(Boolean).join(' ')),
          ),
        );
        return select;
      }
      return el('span', {}, `(component type ${c.type})`);
    }),
  );
}

async function run(action, body) {
  showError('');
  try {
    const answer = await post(action, body);
    if (answer.modal) openModal(answer.modal, body.message);
    await refresh(true);
    return answer;
  } catch (err) {
    showError(err.message);
    return undefined;
  }
}

const click = (message, customId, selected) => run('component', { message: message.id, customId, selected });

function showError(text) {
  $('composer-error').hidden = !text;
  $('composer-error').textContent = text;
}

function openModal(modal, messageId) {
  const dialog = $('modal');
  const inputs = modal.components.flatMap((row) => row.components);
  const form = el(
    'form',
    {
      method: 'dialog',
      onsubmit: async (e) => {
        e.preventDefault();
        const values = Object.fromEntries(inputs.map((i) => [i.custom_id, form.elements[i.custom_id].value]));
        dialog.close();
        await run('modal', { customId: modal.custom_id, values, message: messageId });
      },
    },
    el('h2', {}, modal.title),
    el(
      'div',
      { class: 'fields' },
      inputs.map((i) => {
        const attrs = {
          id: `modal-${i.custom_id}`,
          name: i.custom_id,
          placeholder: i.placeholder,
          required: i.required !== false,
          minlength: i.min_length,
          maxlength: i.max_length,
        };
        const field =
          i.style === 2
            ? el('textarea', attrs, i.value ?? '')
            : el('input', { ...attrs, value: i.value ?? '' });
        return [el('label', { for: attrs.id }, i.label), field];
      }),
    ),
    el(
      'div',
      { class: 'actions' },
      el('button', { type: 'button', class: 'cancel', onclick: () => dialog.close() }, 'Cancel'),
      el('button', { type: 'submit' }, 'Submit'),
    ),
  );
  dialog.replaceChildren(form);
  dialog.showModal();
}

// ── the slash-command box ──────────────────────────────────────────────────────────────────────────

const input = $('command-input');

function suggest() {
  const text = input.value;
  const box = $('suggestions');
  if (!text.startsWith('/') || view.command) {
    box.hidden = true;
    return;
  }
  const typed = text.slice(1).split(' ')[0].toLowerCase();
  const found = (view.data?.commands ?? []).filter((c) => c.name.startsWith(typed));
  box.replaceChildren(
    ...found.map((c, i) =>
      el(
        'div',
        {
          class: `suggestion${i === 0 ? ' selected' : ''}`,
          role: 'option',
          'data-command': c.name,
          onclick: () => pickCommand(c),
        },
        `/${c.name}`,
        el('small', {}, c.description),
      ),
    ),
  );
  box.hidden = found.length === 0;
}

function pickCommand(command) {
  view.command = { definition: command, subcommand: null };
  input.value = '';
  input.hidden = true;
  $('suggestions').hidden = true;
  renderCommandForm();
}

function closeCommand() {
  view.command = null;
  $('command-form').hidden = true;
  input.hidden = false;
  input.value = '';
  input.focus();
}

function declaredOptions() {
  const { definition, subcommand } = view.command;
  const subs = (definition.options ?? []).filter((o) => o.type === OPTION.SUBCOMMAND);
  if (subs.length === 0) return definition.options ?? [];
  return subs.find((s) => s.name === subcommand)?.options ?? [];
}

function currentValues(form) {
  const values = {};
  for (const o of declaredOptions()) {
    const field = form.querySelector(`[data-option="${o.name}"]`);
    const value = field?.dataset.value ?? field?.value ?? '';
    if (value !== '') values[o.name] = value;
  }
  return values;
}

function optionField(o) {
  const d = view.data;
  const attrs = { 'data-option': o.name, name: o.name, 'aria-label': o.name };
  const pick = (items) =>
    el(
      'select',
      attrs,
      el('option', { value: '' }, o.required ? 'choose…' : '(none)'),
      items.map(([v, label]) => el('option', { value: v }, label)),
    );
  if (o.choices) return pick(o.choices.map((c) => [String(c.value), c.name]));
  if (o.type === OPTION.BOOLEAN)
    return pick([
      ['true', 'True'],
      ['false', 'False'],
    ]);
  if (o.type === OPTION.USER) return pick(d.members.map((m) => [m.id, `${m.name} (${m.label})`]));
  if (o.type === OPTION.ROLE) return pick(d.roles.map((r) => [r.id, `@${r.name}`]));
  if (o.type === OPTION.CHANNEL)
    return pick(d.channels.filter((c) => !c.dm).map((c) => [c.id, `#${c.name}`]));
  if (o.type === OPTION.INTEGER || o.type === OPTION.NUMBER)
    return el('input', { ...attrs, type: 'text', inputmode: 'numeric', placeholder: o.description });
  const field = el('input', { ...attrs, type: 'text', placeholder: o.description, maxlength: o.max_length });
  if (o.autocomplete) {
    let timer;
    field.addEventListener('input', () => {
      delete field.dataset.value;
      clearTimeout(timer);
      timer = setTimeout(() => complete(field, o), 150);
    });
    field.addEventListener('focus', () => complete(field, o));
  }
  return field;
}

async function complete(field, option) {
  // A suggestion request can fire after the command was sent or cancelled.
  if (!view.command || !field.isConnected) return;
  const form = $('command-form');
  const values = { ...currentValues(form), [option.name]: field.value };
  const { definition, subcommand } = view.command;
  let answer;
  try {
    answer = await post('autocomplete', { name: definition.name, subcommand, values, focused: option.name });
  } catch (err) {
    showError(err.message);
    return;
  }
  field.parentElement.querySelector('.choices')?.remove();
  if (!answer.choices?.length) return;
  const list = el(
    'div',
    { class: 'choices', role: 'listbox' },
    answer.choices.map((c) =>
      el(
        'div',
        {
          role: 'option',
          onmousedown: (e) => {
            e.preventDefault();
            field.value = c.name;
            field.dataset.value = String(c.value);
            list.remove();
          },
        },
        c.name,
      ),
    ),
  );
  field.after(list);
  field.addEventListener('blur', () => list.remove(), { once: true });
}

function renderCommandForm() {
  const form = $('command-form');
  const { definition } = view.command;
  const subs = (definition.options ?? []).filter((o) => o.type === OPTION.SUBCOMMAND);
  const parts = [el('span', { class: 'command-name' }, `/${definition.name}`)];
  if (subs.length > 0) {
    parts.push(
      el(
        'label',
        {},
        'subcommand',
        el(
          'select',
          {
            name: 'subcommand',
            'aria-label': 'subcommand',
            onchange: (e) => {
              view.command.subcommand = e.target.value || null;
              renderCommandForm();
            },
          },
          el('option', { value: '' }, 'choose…'),
          subs.map((s) =>
            el('option', { value: s.name, selected: s.name === view.command.subcommand }, s.name),
          ),
        ),
      ),
    );
  }
  for (const o of declaredOptions()) {
    parts.push(el('label', { title: o.description }, `${o.name}${o.required ? ' *' : ''}`, optionField(o)));
  }
  parts.push(el('button', { type: 'submit', id: 'send-command' }, 'Send'));
  parts.push(el('button', { type: 'button', class: 'cancel', onclick: closeCommand }, 'Cancel'));
  form.replaceChildren(...parts);
  form.hidden = false;
  form.querySelector('input, select')?.focus();
}

$('composer').addEventListener('submit', async (e) => {
  e.preventDefault();
  if (!view.command) {
    const first = $('suggestions').querySelector('.suggestion');
    if (first) pickCommand(view.data.commands.find((c) => c.name === first.dataset.command));
    else if (input.value.trim()) showError('The playground sends slash commands only: type / to pick one.');
    return;
  }
  const { definition, subcommand } = view.command;
  const subs = (definition.options ?? []).some((o) => o.type === OPTION.SUBCOMMAND);
  if (subs && !subcommand) return showError(`Pick a subcommand of /${definition.name}.`);
  const missing = declaredOptions().filter(
    (o) => o.required && !(o.name in currentValues($('command-form'))),
  );
  if (missing.length) return showError(`Fill in ${missing.map((o) => o.name).join(', ')}.`);
  const values = currentValues($('command-form'));
  closeCommand();
  await run('command', { name: definition.name, subcommand, values });
});
input.addEventListener('input', suggest);
input.addEventListener('keydown', (e) => {
  if (e.key === 'Escape') closeCommand();
});

$('member').addEventListener('change', (e) => {
  view.member = e.target.value;
  localStorage.setItem('member', view.member);
  refresh(true);
});

await refresh(true);
setInterval(() => refresh().catch(() => undefined), 700);
