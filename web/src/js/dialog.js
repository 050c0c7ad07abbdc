import { h } from './dom.js';

let dialogCount = 0;

/**
 * Asks for confirmation in a modal <dialog>: the browser keeps focus inside it and Escape cancels.
 * Focus starts on Cancel (the safe choice) and returns to whatever was focused before.
 * @returns {Promise<boolean>} true when the user confirmed.
 */
export function confirmDialog({ title, message, confirmLabel, danger = false }) {
  const id = `dialog-${++dialogCount}`;
  const opener = document.activeElement;
  const cancel = h('button', { type: 'submit', value: 'cancel', class: 'button button-quiet', autofocus: true }, 'Cancel');
  const confirm = h('button', { type: 'submit', value: 'confirm', class: danger ? 'button button-danger' : 'button', testid: 'confirm-button' }, confirmLabel);
  const dialog = h('dialog', { 'aria-labelledby': `${id}-title`, 'aria-describedby': `${id}-message`, testid: 'confirm-dialog' },
    h('form', { method: 'dialog' },
      h('h2', { id: `${id}-title` }, title),
      h('p', { id: `${id}-message` }, message),
      h('div', { class: 'dialog-actions' }, cancel, confirm)));
  document.body.append(dialog);

  return new Promise((resolve) => {
    dialog.addEventListener('close', () => {
      const confirmed = dialog.returnValue === 'confirm';
      dialog.remove();
      if (opener instanceof HTMLElement && opener.isConnected) {
        opener.focus();
      }
      resolve(confirmed);
    }, { once: true });
    dialog.showModal();
    cancel.focus();
  });
}
